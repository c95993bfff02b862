import type { HalfDType } from "./tensor.js";

// IEEE half → float32 for every 16-bit word, built on first use (256 KB).
let halfTable: Float32Array | null = null;

function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * dst[dstOff + i] = src[srcOff + i] for i < n, 16-bit words of `format` to float32. Exact: every
 * bfloat16 and float16 value is a float32 value.
 */
export function decodeHalf(
  format: HalfDType,
  src: Uint16Array,
  srcOff: number,
  n: number,
  dst: Float32Array,
  dstOff: number,
): void {
  if (format === "bfloat16") {
    const bits = new Uint32Array(dst.buffer, dst.byteOffset + dstOff * 4, n);
    for (let i = 0; i < n; i++) bits[i] = src[srcOff + i] << 16;
    return;
  }
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfValue(h);
  }
  const table = halfTable;
  for (let i = 0; i < n; i++) dst[dstOff + i] = table[src[srcOff + i]];
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A float as a bfloat16 or float16 word, rounding to nearest even (as torch's .to()). */
export function encodeHalf(format: HalfDType, x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if (format === "bfloat16") {
    if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return (bits >>> 16) | 0x40;
    return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
  }
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++;
  return sign | r;
}
