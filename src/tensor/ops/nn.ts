import { type FloatArray, getBackend } from "../../backend/index.js";
import { record } from "../autograd.js";
import type { Generator } from "../random.js";
import { normalizeAxis } from "../shape-utils.js";
import { allocate, formatShape, Tensor, empty } from "../tensor.js";
import { transpose } from "./shape.js";

function lastAxisRows(x: Tensor): [number, number] {
  const cols = x.shape[x.ndim - 1] ?? 1;
  return [cols === 0 ? 0 : x.size / cols, cols];
}

function like(x: Tensor): Tensor {
  return new Tensor(empty(x.dtype, x.size), x.shape);
}

/** Zeroed like t: the kernels add parameter gradients into it. */
function zerosOf(t: Tensor): Tensor {
  return new Tensor(allocate(t.dtype, t.size), t.shape);
}

function softmaxImpl(x: Tensor, axis: number, log: boolean): Tensor {
  const name = log ? "logSoftmax" : "softmax";
  const a = normalizeAxis(axis, x.ndim, name);
  if (a !== x.ndim - 1) return transpose(softmaxImpl(transpose(x, a, -1), -1, log), a, -1);
  const [rows, cols] = lastAxisRows(x);
  const out = like(x);
  getBackend().softmax(x.floatData, rows, cols, out.floatData, log);
  // The gradient reads the output only.
  return record(out, name, [x], (g) => {
    const gx = like(out);
    getBackend().softmaxGrad(out.floatData, g.floatData, rows, cols, gx.floatData, log);
    return [gx];
  });
}

export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxImpl(x, axis, false);
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxImpl(x, axis, true);
}

function checkVector(t: Tensor | null, cols: number, what: string): void {
  if (t && (t.ndim !== 1 || t.shape[0] !== cols)) {
    throw new Error(`${what} must have shape [${cols}], got ${formatShape(t.shape)}`);
  }
}

/** LayerNorm over the last axis with optional elementwise weight and bias. */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  const [rows, cols] = lastAxisRows(x);
  checkVector(weight, cols, "layerNorm weight");
  checkVector(bias, cols, "layerNorm bias");
  const out = like(x);
  const meanBuf = empty(x.dtype, rows) as FloatArray;
  const rstd = empty(x.dtype, rows) as FloatArray;
  getBackend().layerNorm(
    x.floatData,
    weight?.floatData ?? null,
    bias?.floatData ?? null,
    rows,
    cols,
    eps,
    out.floatData,
    meanBuf,
    rstd,
  );
  const inputs = [x, weight, bias].filter((t): t is Tensor => t !== null);
  return record(out, "layerNorm", inputs, (g) => {
    const gx = like(x);
    const gw = weight?.requiresGrad ? zerosOf(weight) : null;
    const gb = bias?.requiresGrad ? zerosOf(bias) : null;
    getBackend().layerNormGrad(
      x.floatData,
      weight?.floatData ?? null,
      meanBuf,
      rstd,
      g.floatData,
      rows,
      cols,
      gx.floatData,
      gw?.floatData ?? null,
      gb?.floatData ?? null,
    );
    return [gx, ...(weight ? [gw] : []), ...(bias ? [gb] : [])];
  });
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · weight. */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = 1e-6): Tensor {
  const [rows, cols] = lastAxisRows(x);
  checkVector(weight, cols, "rmsNorm weight");
  const out = like(x);
  const rstd = empty(x.dtype, rows) as FloatArray;
  getBackend().rmsNorm(x.floatData, weight?.floatData ?? null, rows, cols, eps, out.floatData, rstd);
  const inputs = weight ? [x, weight] : [x];
  return record(out, "rmsNorm", inputs, (g) => {
    const gx = like(x);
    const gw = weight?.requiresGrad ? zerosOf(weight) : null;
    getBackend().rmsNormGrad(
      x.floatData,
      weight?.floatData ?? null,
      rstd,
      g.floatData,
      rows,
      cols,
      gx.floatData,
      gw?.floatData ?? null,
    );
    return weight ? [gx, gw] : [gx];
  });
}

export interface CrossEntropyOptions {
  /** Targets equal to this add no loss and are left out of the mean (PyTorch default -100). */
  ignoreIndex?: number;
  /** ε of PyTorch's label smoothing. */
  labelSmoothing?: number;
  reduction?: "mean" | "sum" | "none";
}

/**
 * Cross-entropy of logits [..., C] against int32 class targets [...], as torch's
 * F.cross_entropy: the mean is over targets that are not ignored.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = options.ignoreIndex ?? -100;
  const smoothing = options.labelSmoothing ?? 0;
  const reduction = options.reduction ?? "mean";
  if (targets.dtype !== "int32") throw new Error(`crossEntropy: targets must be int32, got ${targets.dtype}`);
  const [rows, cols] = lastAxisRows(logits);
  if (targets.size !== rows || logits.ndim - 1 !== targets.ndim) {
    throw new Error(
      `crossEntropy: targets of shape ${formatShape(targets.shape)} do not match logits ${formatShape(logits.shape)}`,
    );
  }
  const tgt = targets.data as Int32Array;
  const perRow = empty(logits.dtype, rows) as FloatArray;
  const lse = empty(logits.dtype, rows) as FloatArray;
  getBackend().crossEntropy(logits.floatData, tgt, rows, cols, ignoreIndex, smoothing, perRow, lse);
  let count = 0;
  for (const t of tgt) if (t !== ignoreIndex) count++;

  let out: Tensor;
  if (reduction === "none") out = new Tensor(perRow, targets.shape);
  else {
    let s = 0;
    for (const v of perRow) s += v;
    out = new Tensor(allocate(logits.dtype, 1).fill(reduction === "mean" ? s / count : s), []);
  }
  return record(out, "crossEntropy", [logits], (g) => {
    const gRows = empty(logits.dtype, rows) as FloatArray;
    if (reduction === "none") gRows.set(g.floatData);
    else gRows.fill(reduction === "mean" ? g.item() / count : g.item());
    const gx = like(logits);
    getBackend().crossEntropyGrad(
      logits.floatData,
      tgt,
      lse,
      gRows,
      rows,
      cols,
      ignoreIndex,
      smoothing,
      gx.floatData,
    );
    return [gx];
  });
}

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p). The mask
 * is a hash of one seed drawn from rng and the element's index (Backend.dropout), so the backward
 * recomputes it and keeps nothing else.
 */
export function dropout(x: Tensor, p: number, rng: Generator, training = true): Tensor {
  if (p < 0 || p >= 1) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const seed = rng.nextUint32();
  const out = like(x);
  getBackend().dropout(x.floatData, out.floatData, p, seed);
  return record(out, "dropout", [x], (g) => {
    const gx = like(g);
    getBackend().dropout(g.floatData, gx.floatData, p, seed);
    return [gx];
  });
}

/** L2 norm of each row over the last axis: shape [...] (or [..., 1] with keepdim). */
export function rowNorm(x: Tensor, keepdim = false): Tensor {
  const [rows, cols] = lastAxisRows(x);
  const shape = keepdim ? [...x.shape.slice(0, -1), 1] : x.shape.slice(0, -1);
  const out = new Tensor(empty(x.dtype, rows), shape);
  getBackend().rowNorm(x.floatData, rows, cols, out.floatData);
  return record(out, "rowNorm", [x], (g) => {
    const gx = like(x);
    getBackend().rowNormGrad(x.floatData, out.floatData, g.floatData, rows, cols, gx.floatData);
    return [gx];
  });
}
