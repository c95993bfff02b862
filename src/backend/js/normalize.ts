import type { FloatArray } from "../backend.js";

export function softmax(x: FloatArray, rows: number, cols: number, out: FloatArray, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    let mx = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < cols; j++) if (x[b + j] > mx) mx = x[b + j];
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[b + j] - mx);
    if (log) {
      const lse = mx + Math.log(s);
      for (let j = 0; j < cols; j++) out[b + j] = x[b + j] - lse;
    } else {
      const inv = 1 / s;
      for (let j = 0; j < cols; j++) out[b + j] = Math.exp(x[b + j] - mx) * inv;
    }
  }
}

export function softmaxGrad(
  y: FloatArray,
  gy: FloatArray,
  rows: number,
  cols: number,
  gx: FloatArray,
  log: boolean,
): void {
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    if (log) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += gy[b + j];
      for (let j = 0; j < cols; j++) gx[b + j] = gy[b + j] - Math.exp(y[b + j]) * s;
    } else {
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += gy[b + j] * y[b + j];
      for (let j = 0; j < cols; j++) gx[b + j] = y[b + j] * (gy[b + j] - dot);
    }
  }
}

export function layerNorm(
  x: FloatArray,
  weight: FloatArray | null,
  bias: FloatArray | null,
  rows: number,
  cols: number,
  eps: number,
  out: FloatArray,
  mean: FloatArray,
  rstd: FloatArray,
): void {
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[b + j];
    const mu = s / cols;
    let v = 0;
    for (let j = 0; j < cols; j++) {
      const d = x[b + j] - mu;
      v += d * d;
    }
    const rs = 1 / Math.sqrt(v / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) {
      let y = (x[b + j] - mu) * rs;
      if (weight) y *= weight[j];
      if (bias) y += bias[j];
      out[b + j] = y;
    }
  }
}

export function layerNormGrad(
  x: FloatArray,
  weight: FloatArray | null,
  mean: FloatArray,
  rstd: FloatArray,
  gy: FloatArray,
  rows: number,
  cols: number,
  gx: FloatArray,
  gw: FloatArray | null,
  gb: FloatArray | null,
): void {
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    const mu = mean[r];
    const rs = rstd[r];
    // With xhat = (x - mu)·rs and g = gy·w: gx = rs·(g - mean(g) - xhat·mean(g·xhat)).
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < cols; j++) {
      const xh = (x[b + j] - mu) * rs;
      const g = weight ? gy[b + j] * weight[j] : gy[b + j];
      sumG += g;
      sumGX += g * xh;
      if (gw) gw[j] += gy[b + j] * xh;
      if (gb) gb[j] += gy[b + j];
    }
    const mG = sumG / cols;
    const mGX = sumGX / cols;
    for (let j = 0; j < cols; j++) {
      const xh = (x[b + j] - mu) * rs;
      const g = weight ? gy[b + j] * weight[j] : gy[b + j];
      gx[b + j] = rs * (g - mG - xh * mGX);
    }
  }
}

export function rmsNorm(
  x: FloatArray,
  weight: FloatArray | null,
  rows: number,
  cols: number,
  eps: number,
  out: FloatArray,
  rstd: FloatArray,
): void {
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    let ss = 0;
    for (let j = 0; j < cols; j++) ss += x[b + j] * x[b + j];
    const rs = 1 / Math.sqrt(ss / cols + eps);
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) out[b + j] = weight ? x[b + j] * rs * weight[j] : x[b + j] * rs;
  }
}

export function rmsNormGrad(
  x: FloatArray,
  weight: FloatArray | null,
  rstd: FloatArray,
  gy: FloatArray,
  rows: number,
  cols: number,
  gx: FloatArray,
  gw: FloatArray | null,
): void {
  for (let r = 0; r < rows; r++) {
    const b = r * cols;
    const rs = rstd[r];
    // gx = rs·(g - xhat·mean(g·xhat)) with xhat = x·rs, g = gy·w.
    let sumGX = 0;
    for (let j = 0; j < cols; j++) {
      const xh = x[b + j] * rs;
      const g = weight ? gy[b + j] * weight[j] : gy[b + j];
      sumGX += g * xh;
      if (gw) gw[j] += gy[b + j] * xh;
    }
    const mGX = sumGX / cols;
    for (let j = 0; j < cols; j++) {
      const xh = x[b + j] * rs;
      const g = weight ? gy[b + j] * weight[j] : gy[b + j];
      gx[b + j] = rs * (g - xh * mGX);
    }
  }
}

export function rowNorm(x: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let j = 0; j < cols; j++) ss += x[r * cols + j] * x[r * cols + j];
    out[r] = Math.sqrt(ss);
  }
}

export function rowNormGrad(
  x: FloatArray,
  norm: FloatArray,
  gNorm: FloatArray,
  rows: number,
  cols: number,
  gx: FloatArray,
): void {
  for (let r = 0; r < rows; r++) {
    const s = norm[r] === 0 ? 0 : gNorm[r] / norm[r];
    for (let j = 0; j < cols; j++) gx[r * cols + j] = s * x[r * cols + j];
  }
}
