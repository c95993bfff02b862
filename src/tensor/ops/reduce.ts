import { getBackend } from "../../backend/index.js";
import { record } from "../autograd.js";
import { broadcastStrides, normalizeAxis, splitAtAxis } from "../shape-utils.js";
import { allocate, formatShape, shapeSize, Tensor, empty } from "../tensor.js";

function reducedShape(shape: readonly number[], axis: number, keepdim: boolean): number[] {
  return keepdim ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}

/** Copies x (shape with 1s or fewer dims) out to `shape` by broadcasting. */
export function expandTo(x: Tensor, shape: readonly number[]): Tensor {
  const out = new Tensor(empty(x.dtype, shapeSize(shape)), shape);
  const contiguous = broadcastStrides(shape, shape);
  getBackend().copyStrided(
    x.storage,
    0,
    broadcastStrides(x.shape, shape),
    out.storage,
    0,
    contiguous,
    shape,
    false,
  );
  const xShape = x.shape;
  return record(out, "expand", [x], (g) => [sumToShape(g, xShape)]);
}

function sumAxis(x: Tensor, axis: number, keepdim: boolean): Tensor {
  const [outer, len, inner] = splitAtAxis(x.shape, axis);
  const shape = reducedShape(x.shape, axis, keepdim);
  const out = new Tensor(empty(x.dtype, outer * inner), shape);
  getBackend().reduceSum(x.floatData, outer, len, inner, out.floatData);
  const xShape = x.shape;
  return record(out, "sum", [x], (g) => [expandTo(reshapeRaw(g, reducedShape(xShape, axis, true)), xShape)]);
}

// A reshape without autograd, for use inside backward rules that already run under noGrad.
function reshapeRaw(x: Tensor, shape: readonly number[]): Tensor {
  return new Tensor(x.data, shape);
}

function axesOf(x: Tensor, axis: number | readonly number[] | undefined, op: string): number[] {
  const list = axis === undefined ? x.shape.map((_, i) => i) : typeof axis === "number" ? [axis] : [...axis];
  const norm = list.map((a) => normalizeAxis(a, x.ndim, op));
  if (new Set(norm).size !== norm.length) throw new Error(`${op}: repeated axis in [${list.join(", ")}]`);
  // Reduce from the last axis down so earlier axis numbers stay valid when dims are dropped.
  return norm.sort((a, b) => b - a);
}

/** Sum over the given axes (all when omitted). */
export function sum(x: Tensor, axis?: number | readonly number[], keepdim = false): Tensor {
  let out = x;
  for (const a of axesOf(x, axis, "sum")) out = sumAxis(out, a, keepdim);
  if (out === x) return sumAxis(reshapeTracked(x, [x.size]), 0, false);
  return out;
}

// Reshape with gradient: used to sum a 0-d tensor through the same path as others.
function reshapeTracked(x: Tensor, shape: readonly number[]): Tensor {
  const xShape = x.shape;
  return record(reshapeRaw(x, shape), "reshape", [x], (g) => [reshapeRaw(g, xShape)]);
}

export function mean(x: Tensor, axis?: number | readonly number[], keepdim = false): Tensor {
  const axes = axesOf(x, axis, "mean");
  const xShape = x.shape;
  const count = axes.reduce((n, a) => n * xShape[a], 1);
  const s = sum(x, axis, keepdim);
  const out = new Tensor(empty(s.dtype, s.size), s.shape);
  getBackend().unary("mul_scalar", s.floatData, out.floatData, 1 / count);
  return record(out, "mean", [s], (g) => {
    const gs = new Tensor(empty(g.dtype, g.size), g.shape);
    getBackend().unary("mul_scalar", g.floatData, gs.floatData, 1 / count);
    return [gs];
  });
}

/** Maximum over one axis; the gradient goes to the position of the (first) maximum. */
export function max(x: Tensor, axis = -1, keepdim = false): Tensor {
  return maxWithIndex(x, axis, keepdim).values;
}

/** Index of the maximum over one axis, int32. */
export function argmax(x: Tensor, axis = -1, keepdim = false): Tensor {
  return maxWithIndex(x, axis, keepdim).indices;
}

function maxWithIndex(x: Tensor, axis: number, keepdim: boolean): { values: Tensor; indices: Tensor } {
  const ax = normalizeAxis(axis, x.ndim, "max");
  const [outer, len, inner] = splitAtAxis(x.shape, ax);
  if (len === 0) throw new Error(`max: axis ${axis} of shape ${formatShape(x.shape)} is empty`);
  const shape = reducedShape(x.shape, ax, keepdim);
  const values = new Tensor(empty(x.dtype, outer * inner), shape);
  const indices = new Tensor(new Int32Array(outer * inner), shape);
  getBackend().reduceMax(x.floatData, outer, len, inner, values.floatData, indices.data as Int32Array);
  const { dtype, size, shape: xShape } = x;
  record(values, "max", [x], (g) => {
    const gx = new Tensor(allocate(dtype, size), xShape);
    getBackend().scatterAdd(g.floatData, outer, len, inner, 1, indices.data as Int32Array, gx.floatData);
    return [gx];
  });
  return { values, indices };
}

/**
 * Sums g down to `shape` over the axes broadcasting expanded: the backward of every
 * broadcasting op.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  let out = g;
  for (const a of axes.sort((p, q) => q - p)) out = sumAxis(out, a, true);
  return reshapeRaw(out, shape);
}
