import type { FloatArray } from "../backend.js";

export function reduceSum(x: FloatArray, outer: number, len: number, inner: number, out: FloatArray): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      const base = o * len;
      for (let j = 0; j < len; j++) s += x[base + j];
      out[o] = s;
    }
    return;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let j = 0; j < len; j++) {
      const base = (o * len + j) * inner;
      for (let i = 0; i < inner; i++) acc[i] += x[base + i];
    }
    out.set(acc, o * inner);
  }
}

export function reduceMax(
  x: FloatArray,
  outer: number,
  len: number,
  inner: number,
  out: FloatArray,
  argmax: Int32Array,
): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = Number.NEGATIVE_INFINITY;
      let at = 0;
      for (let j = 0; j < len; j++) {
        const v = x[(o * len + j) * inner + i];
        // NaN wins, as in torch.max.
        if (v > best || Number.isNaN(v)) {
          best = v;
          at = j;
          if (Number.isNaN(v)) break;
        }
      }
      out[o * inner + i] = best;
      argmax[o * inner + i] = at;
    }
  }
}
