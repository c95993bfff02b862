import type { FloatArray } from "../backend.js";

export function crossEntropy(
  logits: FloatArray,
  targets: Int32Array,
  rows: number,
  cols: number,
  ignoreIndex: number,
  smoothing: number,
  loss: FloatArray,
  lse: FloatArray,
): void {
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    let mx = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < cols; j++) if (logits[b + j] > mx) mx = logits[b + j];
    let s = 0;
    let sumX = 0;
    for (let j = 0; j < cols; j++) {
      s += Math.exp(logits[b + j] - mx);
      sumX += logits[b + j];
    }
    const l = mx + Math.log(s);
    lse[r] = l;
    const t = targets[r];
    if (t === ignoreIndex) {
      loss[r] = 0;
      continue;
    }
    if (t < 0 || t >= cols) throw new RangeError(`target ${t} at row ${r} is out of range [0, ${cols})`);
    loss[r] = (1 - smoothing) * (l - logits[b + t]) + smoothing * (l - sumX / cols);
  }
}

export function crossEntropyGrad(
  logits: FloatArray,
  targets: Int32Array,
  lse: FloatArray,
  gLoss: FloatArray,
  rows: number,
  cols: number,
  ignoreIndex: number,
  smoothing: number,
  gx: FloatArray,
): void {
  const uniform = smoothing / cols;
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    const t = targets[r];
    if (t === ignoreIndex) {
      gx.fill(0, b, b + cols);
      continue;
    }
    const g = gLoss[r];
    const l = lse[r];
    for (let j = 0; j < cols; j++) gx[b + j] = g * (Math.exp(logits[b + j] - l) - uniform);
    gx[b + t] -= g * (1 - smoothing);
  }
}
