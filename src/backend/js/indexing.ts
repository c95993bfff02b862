import type { FloatArray } from "../backend.js";

function checkIndex(i: number, len: number): void {
  if (i < 0 || i >= len || !Number.isInteger(i)) {
    throw new RangeError(`index ${i} is out of range for an axis of length ${len}`);
  }
}

export function indexSelect(
  src: FloatArray,
  outer: number,
  srcLen: number,
  inner: number,
  idx: Int32Array,
  dst: FloatArray,
): void {
  const k = idx.length;
  for (const i of idx) checkIndex(i, srcLen);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const from = (o * srcLen + idx[j]) * inner;
      dst.set(src.subarray(from, from + inner), (o * k + j) * inner);
    }
  }
}

export function indexAdd(
  src: FloatArray,
  outer: number,
  dstLen: number,
  inner: number,
  idx: Int32Array,
  dst: FloatArray,
): void {
  const k = idx.length;
  for (const i of idx) checkIndex(i, dstLen);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const to = (o * dstLen + idx[j]) * inner;
      const from = (o * k + j) * inner;
      for (let i = 0; i < inner; i++) dst[to + i] += src[from + i];
    }
  }
}

export function gather(
  src: FloatArray,
  outer: number,
  srcLen: number,
  inner: number,
  k: number,
  idx: Int32Array,
  dst: FloatArray,
): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < inner; i++) {
        const at = (o * k + j) * inner + i;
        checkIndex(idx[at], srcLen);
        dst[at] = src[(o * srcLen + idx[at]) * inner + i];
      }
    }
  }
}

export function scatterAdd(
  src: FloatArray,
  outer: number,
  dstLen: number,
  inner: number,
  k: number,
  idx: Int32Array,
  dst: FloatArray,
): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < inner; i++) {
        const at = (o * k + j) * inner + i;
        checkIndex(idx[at], dstLen);
        dst[(o * dstLen + idx[at]) * inner + i] += src[at];
      }
    }
  }
}
