import { type BinaryOp, getBackend, type UnaryOp } from "../../backend/index.js";
import { record } from "../autograd.js";
import { broadcastShapes, broadcastStrides } from "../shape-utils.js";
import { allocate, type DType, formatShape, shapeSize, Tensor, empty } from "../tensor.js";
import { sumToShape } from "./reduce.js";

/** A tensor, or a number standing for a scalar of the other operand's dtype. */
export type Operand = Tensor | number;

function scalarLike(value: number, dtype: DType): Tensor {
  return new Tensor(allocate(dtype, 1).fill(value), []);
}

function checkFloat(t: Tensor, op: string): void {
  if (!t.isFloat)
    throw new Error(`${op}: expected a float tensor, got int32 of shape ${formatShape(t.shape)}`);
}

function operands(a: Operand, b: Operand, op: string): [Tensor, Tensor] {
  if (typeof a === "number" && typeof b === "number")
    throw new Error(`${op}: at least one operand must be a tensor`);
  const ta = typeof a === "number" ? scalarLike(a, (b as Tensor).dtype) : a;
  const tb = typeof b === "number" ? scalarLike(b, ta.dtype) : b;
  checkFloat(ta, op);
  checkFloat(tb, op);
  if (ta.dtype !== tb.dtype) throw new Error(`${op}: dtypes differ (${ta.dtype} and ${tb.dtype})`);
  return [ta, tb];
}

/** The shapes of the operands that take a gradient (null for one that does not). */
function gradShapes(x: Tensor, y: Tensor): [readonly number[] | null, readonly number[] | null] {
  return [x.requiresGrad ? x.shape : null, y.requiresGrad ? y.shape : null];
}

function binaryForward(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const out = new Tensor(empty(a.dtype, shapeSize(shape)), shape);
  getBackend().binary(
    op,
    a.floatData,
    broadcastStrides(a.shape, shape),
    b.floatData,
    broadcastStrides(b.shape, shape),
    out.floatData,
    shape,
  );
  return out;
}

export function add(a: Operand, b: Operand): Tensor {
  if (typeof b === "number" && typeof a !== "number") return addScalar(a, b);
  if (typeof a === "number" && typeof b !== "number") return addScalar(b, a);
  const [x, y] = operands(a, b, "add");
  const [xShape, yShape] = gradShapes(x, y);
  return record(binaryForward("add", x, y), "add", [x, y], (g) => [
    xShape && sumToShape(g, xShape),
    yShape && sumToShape(g, yShape),
  ]);
}

export function sub(a: Operand, b: Operand): Tensor {
  if (typeof b === "number" && typeof a !== "number") return addScalar(a, -b);
  const [x, y] = operands(a, b, "sub");
  const [xShape, yShape] = gradShapes(x, y);
  return record(binaryForward("sub", x, y), "sub", [x, y], (g) => [
    xShape && sumToShape(g, xShape),
    yShape && neg(sumToShape(g, yShape)),
  ]);
}

export function mul(a: Operand, b: Operand): Tensor {
  if (typeof b === "number" && typeof a !== "number") return mulScalar(a, b);
  if (typeof a === "number" && typeof b !== "number") return mulScalar(b, a);
  const [x, y] = operands(a, b, "mul");
  const [xShape, yShape] = gradShapes(x, y);
  // Each factor's gradient reads the other: keep a factor only where the other one trains.
  const keptX = yShape && x;
  const keptY = xShape && y;
  return record(binaryForward("mul", x, y), "mul", [x, y], (g) => [
    xShape && keptY && sumToShape(mul(g, keptY), xShape),
    yShape && keptX && sumToShape(mul(g, keptX), yShape),
  ]);
}

export function div(a: Operand, b: Operand): Tensor {
  if (typeof b === "number" && typeof a !== "number") return mulScalar(a, 1 / b);
  const [x, y] = operands(a, b, "div");
  const out = binaryForward("div", x, y);
  const [xShape, yShape] = gradShapes(x, y);
  const keptOut = yShape && out;
  return record(out, "div", [x, y], (g) => [
    xShape && sumToShape(div(g, y), xShape),
    // d(x/y)/dy = -out / y
    yShape && keptOut && sumToShape(neg(div(mul(g, keptOut), y)), yShape),
  ]);
}

/** Elementwise power with broadcasting; the exponent's gradient uses log(base). */
export function pow(a: Operand, b: Operand): Tensor {
  if (typeof b === "number" && typeof a !== "number") return powScalar(a, b);
  const [x, y] = operands(a, b, "pow");
  const out = binaryForward("pow", x, y);
  const [xShape, yShape] = gradShapes(x, y);
  const keptOut = yShape && out;
  return record(out, "pow", [x, y], (g) => [
    xShape && sumToShape(mul(g, mul(y, pow(x, sub(y, 1)))), xShape),
    yShape && keptOut && sumToShape(mul(g, mul(keptOut, log(x))), yShape),
  ]);
}

// For maximum/minimum a tie sends half the gradient to each side, as torch does.
function extremum(op: "max" | "min", a: Operand, b: Operand): Tensor {
  const name = op === "max" ? "maximum" : "minimum";
  const [x, y] = operands(a, b, name);
  const [xShape, yShape] = gradShapes(x, y);
  return record(binaryForward(op, x, y), name, [x, y], (g) => {
    const xWins = op === "max" ? gt(x, y) : gt(y, x);
    const half = mulScalar(eq(x, y), 0.5);
    const wx = add(xWins, half);
    return [xShape && sumToShape(mul(g, wx), xShape), yShape && sumToShape(mul(g, sub(1, wx)), yShape)];
  });
}

export function maximum(a: Operand, b: Operand): Tensor {
  return extremum("max", a, b);
}

export function minimum(a: Operand, b: Operand): Tensor {
  return extremum("min", a, b);
}

/** 1 where a > b, else 0 (a mask: no gradient). */
export function gt(a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b, "gt");
  return binaryForward("gt", x, y);
}

/** 1 where a == b, else 0 (a mask: no gradient). */
export function eq(a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b, "eq");
  return binaryForward("eq", x, y);
}

/** What each unary op's gradient reads: its input x, its output, or neither. */
const GRAD_READS: Record<UnaryOp, "x" | "out" | "none"> = {
  neg: "none",
  exp: "out",
  log: "x",
  sqrt: "out",
  abs: "x",
  tanh: "out",
  sigmoid: "out",
  relu: "x",
  gelu: "x",
  gelu_tanh: "x",
  silu: "x",
  add_scalar: "none",
  mul_scalar: "none",
  pow_scalar: "x",
  clamp: "x",
};

function unaryOp(op: UnaryOp, x: Tensor, p0 = 0, p1 = 0): Tensor {
  checkFloat(x, op);
  const out = new Tensor(empty(x.dtype, x.size), x.shape);
  getBackend().unary(op, x.floatData, out.floatData, p0, p1);
  // Only the operand the gradient reads is kept; the kernel's other argument gets the same
  // array, which it does not read.
  const reads = GRAD_READS[op];
  const kept = reads === "x" ? x.floatData : reads === "out" ? out.floatData : null;
  const { dtype, shape } = x;
  return record(out, op, [x], (g) => {
    const gx = new Tensor(empty(dtype, g.size), shape);
    const saved = kept ?? g.floatData;
    getBackend().unaryGrad(op, saved, saved, g.floatData, gx.floatData, p0, p1);
    return [gx];
  });
}

export const neg = (x: Tensor): Tensor => unaryOp("neg", x);
export const exp = (x: Tensor): Tensor => unaryOp("exp", x);
export const log = (x: Tensor): Tensor => unaryOp("log", x);
export const sqrt = (x: Tensor): Tensor => unaryOp("sqrt", x);
export const abs = (x: Tensor): Tensor => unaryOp("abs", x);
export const tanh = (x: Tensor): Tensor => unaryOp("tanh", x);
export const sigmoid = (x: Tensor): Tensor => unaryOp("sigmoid", x);
export const relu = (x: Tensor): Tensor => unaryOp("relu", x);
export const silu = (x: Tensor): Tensor => unaryOp("silu", x);
/** GELU with the exact erf form, or PyTorch's approximate="tanh" form (GPT-2's gelu_new). */
export const gelu = (x: Tensor, approximate: "none" | "tanh" = "none"): Tensor =>
  unaryOp(approximate === "tanh" ? "gelu_tanh" : "gelu", x);
export const addScalar = (x: Tensor, s: number): Tensor => unaryOp("add_scalar", x, s);
export const mulScalar = (x: Tensor, s: number): Tensor => unaryOp("mul_scalar", x, s);
export const powScalar = (x: Tensor, s: number): Tensor => unaryOp("pow_scalar", x, s);
export const clamp = (x: Tensor, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): Tensor =>
  unaryOp("clamp", x, min, max);

function asMask(cond: Tensor): Int32Array {
  if (cond.data instanceof Int32Array) return cond.data;
  return Int32Array.from(cond.data, (v) => (v !== 0 ? 1 : 0));
}

/** cond ? a : b elementwise with broadcasting; cond is a mask (nonzero is true). */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b, "where");
  const shape = broadcastShapes(broadcastShapes(cond.shape, x.shape), y.shape);
  const mask = asMask(cond);
  const out = new Tensor(empty(x.dtype, shapeSize(shape)), shape);
  getBackend().select(
    mask,
    broadcastStrides(cond.shape, shape),
    x.floatData,
    broadcastStrides(x.shape, shape),
    y.floatData,
    broadcastStrides(y.shape, shape),
    out.floatData,
    shape,
  );
  const [xShape, yShape] = gradShapes(x, y);
  return record(out, "where", [x, y], (g) => {
    const zero = scalarLike(0, g.dtype);
    return [
      xShape && sumToShape(where(cond, g, zero), xShape),
      yShape && sumToShape(where(cond, zero, g), yShape),
    ];
  });
}

/** x with `value` wherever mask is nonzero. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}
