import erf from "@stdlib/math-base-special-erf";
import type { BinaryOp, FloatArray, UnaryOp } from "../backend.js";
import { contiguousStrides, forEachRow, planRows } from "./strided.js";

export function binary(
  op: BinaryOp,
  a: FloatArray,
  aStrides: readonly number[],
  b: FloatArray,
  bStrides: readonly number[],
  out: FloatArray,
  shape: readonly number[],
): void {
  const plan = planRows(shape, [aStrides, bStrides, contiguousStrides(shape)]);
  const n = plan.rowLength;
  const [sa, sb] = plan.rowStrides;
  forEachRow(plan, [0, 0, 0], (o) => binaryRow(op, a, o[0], sa, b, o[1], sb, out, o[2], n));
}

function binaryRow(
  op: BinaryOp,
  a: FloatArray,
  ia: number,
  sa: number,
  b: FloatArray,
  ib: number,
  sb: number,
  out: FloatArray,
  io: number,
  n: number,
): void {
  switch (op) {
    case "add":
      for (let j = 0; j < n; j++) out[io + j] = a[ia + j * sa] + b[ib + j * sb];
      return;
    case "sub":
      for (let j = 0; j < n; j++) out[io + j] = a[ia + j * sa] - b[ib + j * sb];
      return;
    case "mul":
      for (let j = 0; j < n; j++) out[io + j] = a[ia + j * sa] * b[ib + j * sb];
      return;
    case "div":
      for (let j = 0; j < n; j++) out[io + j] = a[ia + j * sa] / b[ib + j * sb];
      return;
    case "pow":
      for (let j = 0; j < n; j++) out[io + j] = a[ia + j * sa] ** b[ib + j * sb];
      return;
    case "max":
      for (let j = 0; j < n; j++) out[io + j] = maxNaN(a[ia + j * sa], b[ib + j * sb]);
      return;
    case "min":
      for (let j = 0; j < n; j++) out[io + j] = minNaN(a[ia + j * sa], b[ib + j * sb]);
      return;
    case "gt":
      for (let j = 0; j < n; j++) out[io + j] = a[ia + j * sa] > b[ib + j * sb] ? 1 : 0;
      return;
    case "eq":
      for (let j = 0; j < n; j++) out[io + j] = a[ia + j * sa] === b[ib + j * sb] ? 1 : 0;
      return;
  }
}

// torch.maximum/minimum propagate NaN; Math.max does too, but is slower for two numbers.
function maxNaN(x: number, y: number): number {
  return x > y || Number.isNaN(x) ? x : y;
}
function minNaN(x: number, y: number): number {
  return x < y || Number.isNaN(x) ? x : y;
}

const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const GELU_TANH_C = 0.044715;

function sigmoid(x: number): number {
  // Two branches keep exp from overflowing for large |x|.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

// The activations of gated MLPs and their gradients gx = g·f'(v), shared by the unary kernels and
// the fused gated activation (gated.ts), so both compute the very same values.
export const siluOf = (v: number): number => v * sigmoid(v);
export function siluGrad(v: number, g: number): number {
  const s = sigmoid(v);
  return g * s * (1 + v * (1 - s));
}
export const geluOf = (v: number): number => 0.5 * v * (1 + erf(v * SQRT_HALF));
export function geluGrad(v: number, g: number): number {
  const cdf = 0.5 * (1 + erf(v * SQRT_HALF));
  return g * (cdf + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
}
export const geluTanhOf = (v: number): number =>
  0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + GELU_TANH_C * v * v * v)));
export function geluTanhGrad(v: number, g: number): number {
  const t = Math.tanh(SQRT_2_OVER_PI * (v + GELU_TANH_C * v * v * v));
  const dt = (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * v * v);
  return g * (0.5 * (1 + t) + 0.5 * v * dt);
}

export function unary(op: UnaryOp, x: FloatArray, out: FloatArray, p0 = 0, p1 = 0): void {
  const n = x.length;
  switch (op) {
    case "neg":
      for (let i = 0; i < n; i++) out[i] = -x[i];
      return;
    case "exp":
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]);
      return;
    case "log":
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
      return;
    case "sqrt":
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
      return;
    case "abs":
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]);
      return;
    case "tanh":
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
      return;
    case "sigmoid":
      for (let i = 0; i < n; i++) out[i] = sigmoid(x[i]);
      return;
    case "relu":
      for (let i = 0; i < n; i++) out[i] = Math.max(x[i], 0);
      return;
    case "gelu":
      for (let i = 0; i < n; i++) out[i] = geluOf(x[i]);
      return;
    case "gelu_tanh":
      for (let i = 0; i < n; i++) out[i] = geluTanhOf(x[i]);
      return;
    case "silu":
      for (let i = 0; i < n; i++) out[i] = siluOf(x[i]);
      return;
    case "add_scalar":
      for (let i = 0; i < n; i++) out[i] = x[i] + p0;
      return;
    case "mul_scalar":
      for (let i = 0; i < n; i++) out[i] = x[i] * p0;
      return;
    case "pow_scalar":
      for (let i = 0; i < n; i++) out[i] = x[i] ** p0;
      return;
    case "clamp":
      for (let i = 0; i < n; i++) out[i] = Math.min(Math.max(x[i], p0), p1);
      return;
  }
}

export function unaryGrad(
  op: UnaryOp,
  x: FloatArray,
  y: FloatArray,
  gy: FloatArray,
  gx: FloatArray,
  p0 = 0,
  p1 = 0,
): void {
  const n = x.length;
  switch (op) {
    case "neg":
      for (let i = 0; i < n; i++) gx[i] = -gy[i];
      return;
    case "exp":
      for (let i = 0; i < n; i++) gx[i] = gy[i] * y[i];
      return;
    case "log":
      for (let i = 0; i < n; i++) gx[i] = gy[i] / x[i];
      return;
    case "sqrt":
      for (let i = 0; i < n; i++) gx[i] = gy[i] / (2 * y[i]);
      return;
    case "abs":
      for (let i = 0; i < n; i++) gx[i] = gy[i] * Math.sign(x[i]);
      return;
    case "tanh":
      for (let i = 0; i < n; i++) gx[i] = gy[i] * (1 - y[i] * y[i]);
      return;
    case "sigmoid":
      for (let i = 0; i < n; i++) gx[i] = gy[i] * y[i] * (1 - y[i]);
      return;
    case "relu":
      for (let i = 0; i < n; i++) gx[i] = x[i] > 0 ? gy[i] : 0;
      return;
    case "gelu":
      for (let i = 0; i < n; i++) gx[i] = geluGrad(x[i], gy[i]);
      return;
    case "gelu_tanh":
      for (let i = 0; i < n; i++) gx[i] = geluTanhGrad(x[i], gy[i]);
      return;
    case "silu":
      for (let i = 0; i < n; i++) gx[i] = siluGrad(x[i], gy[i]);
      return;
    case "add_scalar":
      gx.set(gy);
      return;
    case "mul_scalar":
      for (let i = 0; i < n; i++) gx[i] = gy[i] * p0;
      return;
    case "pow_scalar":
      for (let i = 0; i < n; i++) gx[i] = p0 === 0 ? 0 : gy[i] * p0 * x[i] ** (p0 - 1);
      return;
    case "clamp":
      // PyTorch passes the gradient where lo <= x <= hi.
      for (let i = 0; i < n; i++) gx[i] = x[i] >= p0 && x[i] <= p1 ? gy[i] : 0;
      return;
  }
}

export function select(
  cond: Int32Array,
  condStrides: readonly number[],
  a: FloatArray,
  aStrides: readonly number[],
  b: FloatArray,
  bStrides: readonly number[],
  out: FloatArray,
  shape: readonly number[],
): void {
  const plan = planRows(shape, [condStrides, aStrides, bStrides, contiguousStrides(shape)]);
  const n = plan.rowLength;
  const [sc, sa, sb] = plan.rowStrides;
  forEachRow(plan, [0, 0, 0, 0], (o) => {
    const [ic, ia, ib, io] = o;
    for (let j = 0; j < n; j++) out[io + j] = cond[ic + j * sc] !== 0 ? a[ia + j * sa] : b[ib + j * sb];
  });
}

export function copyStrided(
  src: FloatArray | Int32Array,
  srcOff: number,
  srcStrides: readonly number[],
  dst: FloatArray | Int32Array,
  dstOff: number,
  dstStrides: readonly number[],
  shape: readonly number[],
  accumulate: boolean,
): void {
  const plan = planRows(shape, [srcStrides, dstStrides]);
  const n = plan.rowLength;
  const [ss, sd] = plan.rowStrides;
  forEachRow(plan, [srcOff, dstOff], (o) => {
    const is = o[0];
    const id = o[1];
    if (accumulate) for (let j = 0; j < n; j++) dst[id + j * sd] += src[is + j * ss];
    else if (ss === 1 && sd === 1) dst.set(src.subarray(is, is + n), id);
    else for (let j = 0; j < n; j++) dst[id + j * sd] = src[is + j * ss];
  });
}
