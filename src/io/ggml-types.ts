import { floatToBf16, floatToHalf } from "./dtypes.js";

/**
 * The ggml tensor types morelora writes into GGUF files (ids from ggml's `enum ggml_type`), with
 * their block layout: a row of `blockSize` values takes `blockBytes` bytes.
 */
export const GGML_TYPES = {
  F32: { id: 0, blockSize: 1, blockBytes: 4 },
  F16: { id: 1, blockSize: 1, blockBytes: 2 },
  Q8_0: { id: 8, blockSize: 32, blockBytes: 34 },
  BF16: { id: 30, blockSize: 1, blockBytes: 2 },
} as const;

export type GgmlType = keyof typeof GGML_TYPES;

/** Bytes of a tensor of this type and shape (outermost dimension first); rows must fill whole blocks. */
export function ggmlByteLength(type: GgmlType, shape: readonly number[]): number {
  const { blockSize, blockBytes } = GGML_TYPES[type];
  const row = shape.length ? shape[shape.length - 1] : 1;
  if (row % blockSize !== 0)
    throw new Error(`${type} needs rows that are a multiple of ${blockSize} values; this row has ${row}`);
  return (shape.reduce((a, b) => a * b, 1) / blockSize) * blockBytes;
}

/** Rounds half away from zero, as C's roundf (which llama.cpp's quantizers use). */
const roundf = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

/**
 * Q8_0: each block of 32 values is an f16 scale d = max|x| / 127 followed by 32 int8 values
 * round(x / d), llama.cpp's quantize_row_q8_0_ref (docs/export.md).
 */
function encodeQ8_0(values: ArrayLike<number>, out: DataView): void {
  for (let b = 0; b < values.length / 32; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(values[b * 32 + j]));
    const d = amax / 127;
    const inv = d ? 1 / d : 0;
    out.setUint16(b * 34, floatToHalf(d), true);
    for (let j = 0; j < 32; j++) out.setInt8(b * 34 + 2 + j, roundf(values[b * 32 + j] * inv));
  }
}

/** The little-endian bytes of float values stored as `type`. */
export function encodeGgml(type: GgmlType, values: ArrayLike<number>, shape: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(ggmlByteLength(type, shape));
  const view = new DataView(bytes.buffer);
  if (type === "Q8_0") encodeQ8_0(values, view);
  else
    for (let i = 0; i < values.length; i++) {
      if (type === "F32") view.setFloat32(i * 4, values[i], true);
      else view.setUint16(i * 2, type === "F16" ? floatToHalf(values[i]) : floatToBf16(values[i]), true);
    }
  return bytes;
}
