import { getBackend } from "../../backend/index.js";
import { record } from "../autograd.js";
import { empty, formatShape, Tensor } from "../tensor.js";

/**
 * Rotary position embedding, HF's `x·cos + rotate_half(x)·sin` with rotate_half(x) = [−x2, x1] over
 * the halves of the last axis, in one pass: x is [..., heads, dim], cos and sin are x's shape with
 * the heads axis 1 (one row of dim per position, shared by the heads). The tables are constants (no
 * gradient flows to them); the gradient of x is the transposed rotation of the output's gradient.
 */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  if (x.ndim < 2 || !x.isFloat)
    throw new Error(`rope: x must be a float [..., heads, dim] tensor, got ${formatShape(x.shape)}`);
  const dim = x.shape[x.ndim - 1];
  const heads = x.shape[x.ndim - 2];
  if (dim % 2 !== 0) throw new Error(`rope: the head size ${dim} must be even`);
  // No closure here may name x: V8 keeps the variables any closure of a scope names in one context
  // that the backward rule shares, which would keep x alive until the backward (docs/memory.md).
  const headsAxis = x.ndim - 2;
  const tableShape = x.shape.map((d, i) => (i === headsAxis ? 1 : d));
  for (const [name, t] of [
    ["cos", cos],
    ["sin", sin],
  ] as const) {
    if (t.ndim !== x.ndim || t.shape.some((d, i) => d !== tableShape[i]))
      throw new Error(
        `rope: ${name} must have shape ${formatShape(tableShape)}, got ${formatShape(t.shape)}`,
      );
    if (t.dtype !== x.dtype) throw new Error(`rope: ${name} is ${t.dtype}, x is ${x.dtype}`);
    if (t.requiresGrad) throw new Error(`rope: ${name} is a table without gradient, but it requires grad`);
  }
  const rows = heads === 0 || dim === 0 ? 0 : x.size / (heads * dim);
  const out = new Tensor(empty(x.dtype, x.size), x.shape);
  getBackend().rope(x.floatData, cos.floatData, sin.floatData, rows, heads, dim, out.floatData, false);
  return record(out, "rope", [x], (g) => {
    const gx = new Tensor(empty(g.dtype, g.size), g.shape);
    getBackend().rope(g.floatData, cos.floatData, sin.floatData, rows, heads, dim, gx.floatData, true);
    return [gx];
  });
}
