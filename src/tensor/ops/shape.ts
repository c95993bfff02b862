import { getBackend } from "../../backend/index.js";
import { record } from "../autograd.js";
import { contiguousStrides, normalizeAxis, splitAtAxis } from "../shape-utils.js";
import { decodeHalf } from "../half.js";
import { allocate, empty, formatShape, type HalfStorage, shapeSize, Tensor } from "../tensor.js";

export { expandTo as expand } from "./reduce.js";

/** Same data, new shape; one dimension may be -1 and is inferred. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  if (inferred > 1) throw new Error(`reshape: more than one -1 in ${formatShape(shape)}`);
  const knownSize = shapeSize(known);
  const size = x.size;
  const resolved =
    inferred === 1 ? shape.map((d) => (d === -1 ? (knownSize === 0 ? 0 : size / knownSize) : d)) : [...shape];
  if (shapeSize(resolved) !== x.size || resolved.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`reshape: cannot view shape ${formatShape(x.shape)} as ${formatShape(shape)}`);
  }
  const out = new Tensor(x.data, resolved, x.half ?? undefined);
  const xShape = x.shape;
  return record(out, "reshape", [x], (g) => [new Tensor(g.data, xShape)]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis(axis, x.ndim + 1, "unsqueeze");
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

export function squeeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis(axis, x.ndim, "squeeze");
  if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${axis} of shape ${formatShape(x.shape)} is not 1`);
  return reshape(
    x,
    x.shape.filter((_, i) => i !== a),
  );
}

/** Reorders the axes: out.shape[i] = x.shape[perm[i]]. Copies into contiguous storage. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const { ndim, shape: xShape } = x;
  const p = perm.map((a) => normalizeAxis(a, ndim, "permute"));
  if (p.length !== x.ndim || new Set(p).size !== p.length) {
    throw new Error(`permute: [${perm.join(", ")}] is not a permutation of ${x.ndim} axes`);
  }
  const shape = p.map((a) => xShape[a]);
  const xs = contiguousStrides(x.shape);
  const out = new Tensor(empty(x.dtype, x.size), shape);
  getBackend().copyStrided(
    x.storage,
    0,
    p.map((a) => xs[a]),
    out.storage,
    0,
    contiguousStrides(shape),
    shape,
    false,
  );
  const inverse = new Array<number>(p.length);
  p.forEach((a, i) => {
    inverse[a] = i;
  });
  return record(out, "permute", [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  const a = normalizeAxis(axis0, x.ndim, "transpose");
  const b = normalizeAxis(axis1, x.ndim, "transpose");
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** Elements start..end-1 along one axis (negative positions count from the end). */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const a = normalizeAxis(axis, x.ndim, "slice");
  const len = x.shape[a];
  const clampPos = (v: number): number => Math.min(len, Math.max(0, v < 0 ? v + len : v));
  const s = clampPos(start);
  const e = Math.max(s, clampPos(end ?? len));
  const shape = x.shape.map((d, i) => (i === a ? e - s : d));
  const xs = contiguousStrides(x.shape);
  const out = new Tensor(empty(x.dtype, shapeSize(shape)), shape);
  getBackend().copyStrided(x.storage, s * xs[a], xs, out.storage, 0, contiguousStrides(shape), shape, false);
  const { dtype, size, shape: xShape } = x;
  return record(out, "slice", [x], (g) => {
    const gx = new Tensor(allocate(dtype, size), xShape);
    getBackend().copyStrided(g.storage, 0, contiguousStrides(shape), gx.storage, s * xs[a], xs, shape, false);
    return [gx];
  });
}

/** Joins tensors along an axis; all other dimensions must agree. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error("concat: no tensors given");
  const first = tensors[0];
  const a = normalizeAxis(axis, first.ndim, "concat");
  const firstShape = first.shape;
  for (const t of tensors) {
    const agree = t.ndim === first.ndim && t.shape.every((d, i) => i === a || d === firstShape[i]);
    if (!agree || t.dtype !== first.dtype) {
      throw new Error(
        `concat: ${t.dtype} ${formatShape(t.shape)} does not fit ${first.dtype} ${formatShape(first.shape)} on axis ${axis}`,
      );
    }
  }
  const shape = [...first.shape];
  shape[a] = tensors.reduce((n, t) => n + t.shape[a], 0);
  const out = new Tensor(empty(first.dtype, shapeSize(shape)), shape);
  const outStrides = contiguousStrides(shape);
  let at = 0;
  const starts: number[] = [];
  for (const t of tensors) {
    starts.push(at);
    getBackend().copyStrided(
      t.storage,
      0,
      contiguousStrides(t.shape),
      out.storage,
      at * outStrides[a],
      outStrides,
      t.shape,
      false,
    );
    at += t.shape[a];
  }
  // Only the pieces' extents along the axis are kept, for the inputs that take a gradient.
  const lengths = tensors.map((t) => (t.requiresGrad ? t.shape[a] : null));
  return record(out, "concat", tensors, (g) =>
    lengths.map((len, i) => (len === null ? null : slice(g, a, starts[i], starts[i] + len))),
  );
}

/** Splits along an axis into pieces of the given sizes, or into equal pieces of one size. */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const a = normalizeAxis(axis, x.ndim, "split");
  const len = x.shape[a];
  const list =
    typeof sizes === "number"
      ? Array.from({ length: Math.ceil(len / sizes) }, (_, i) => Math.min(sizes, len - i * sizes))
      : sizes;
  if (list.reduce((n, s) => n + s, 0) !== len) {
    throw new Error(`split: sizes [${list.join(", ")}] do not add up to ${len} on axis ${axis}`);
  }
  let at = 0;
  return list.map((s) => {
    const piece = slice(x, a, at, at + s);
    at += s;
    return piece;
  });
}

function indexArray(index: Tensor | Int32Array | readonly number[], op: string): Int32Array {
  if (index instanceof Int32Array) return index;
  if (index instanceof Tensor) {
    if (index.dtype !== "int32") throw new Error(`${op}: indices must be int32, got ${index.dtype}`);
    return index.data as Int32Array;
  }
  return Int32Array.from(index);
}

/** Picks entries along an axis by a list of indices (embedding lookup is axis 0). */
export function indexSelect(x: Tensor, axis: number, index: Tensor | Int32Array | readonly number[]): Tensor {
  const a = normalizeAxis(axis, x.ndim, "indexSelect");
  const idx = indexArray(index, "indexSelect");
  const [outer, len, inner] = splitAtAxis(x.shape, a);
  const shape = x.shape.map((d, i) => (i === a ? idx.length : d));
  const out = new Tensor(empty(x.dtype, shapeSize(shape)), shape);
  if (x.half) {
    // A frozen half table (an embedding kept in its file's precision): the picked rows in float32.
    const [format, words] = [x.half, x.data as HalfStorage];
    const od = out.data as Float32Array;
    for (let o = 0; o < outer; o++)
      idx.forEach((i, j) => {
        if (i < 0 || i >= len) throw new RangeError(`indexSelect: index ${i} is out of range [0, ${len})`);
        decodeHalf(format, words, (o * len + i) * inner, inner, od, (o * idx.length + j) * inner);
      });
  } else getBackend().indexSelect(x.floatData, outer, len, inner, idx, out.floatData);
  const { dtype, size, shape: xShape } = x;
  return record(out, "indexSelect", [x], (g) => {
    const gx = new Tensor(allocate(dtype, size), xShape);
    getBackend().indexAdd(g.floatData, outer, len, inner, idx, gx.floatData);
    return [gx];
  });
}

/** torch.gather: out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis`. */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  const a = normalizeAxis(axis, x.ndim, "gather");
  const idx = indexArray(index, "gather");
  const { dtype, size, shape: xShape } = x;
  const sameElsewhere = index.ndim === x.ndim && index.shape.every((d, i) => i === a || d === xShape[i]);
  if (!sameElsewhere) {
    throw new Error(
      `gather: index shape ${formatShape(index.shape)} must match ${formatShape(x.shape)} except on axis ${axis}`,
    );
  }
  const [outer, len, inner] = splitAtAxis(x.shape, a);
  const k = index.shape[a];
  const out = new Tensor(empty(x.dtype, index.size), index.shape);
  getBackend().gather(x.floatData, outer, len, inner, k, idx, out.floatData);
  return record(out, "gather", [x], (g) => {
    const gx = new Tensor(allocate(dtype, size), xShape);
    getBackend().scatterAdd(g.floatData, outer, len, inner, k, idx, gx.floatData);
    return [gx];
  });
}
