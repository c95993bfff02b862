import type { Generator } from "./random.js";
import { allocate, type DType, shapeSize, Tensor } from "./tensor.js";

export interface CreateOptions {
  dtype?: DType;
}

type Nested = number | readonly Nested[];

function inferShape(values: Nested): number[] {
  const shape: number[] = [];
  let v: Nested = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0] as Nested;
  }
  return shape;
}

/** A tensor from (nested) numbers or a typed array; float32 unless told. */
export function tensor(
  values: Nested | Float32Array | Float64Array | Int32Array,
  shapeOrOptions?: readonly number[] | CreateOptions,
  options: CreateOptions = {},
): Tensor {
  const shape = Array.isArray(shapeOrOptions) ? shapeOrOptions : undefined;
  const opts = Array.isArray(shapeOrOptions)
    ? options
    : ((shapeOrOptions as CreateOptions | undefined) ?? {});
  if (ArrayBuffer.isView(values)) {
    const data = opts.dtype ? allocate(opts.dtype, values.length) : values;
    if (data !== values) data.set(values);
    return new Tensor(data, shape ?? [values.length]);
  }
  const s = shape ?? inferShape(values as Nested);
  const flat = Array.isArray(values) ? (values as unknown[]).flat(Number.POSITIVE_INFINITY) : [values];
  const data = allocate(opts.dtype ?? "float32", flat.length);
  flat.forEach((v, i) => {
    data[i] = v as number;
  });
  return new Tensor(data, s);
}

export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  return new Tensor(allocate(options.dtype ?? "float32", shapeSize(shape)).fill(value), shape);
}

export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, { dtype: t.dtype });
}

/** [start, start+step, ...) below end. */
export function arange(start: number, end: number, step = 1, options: CreateOptions = {}): Tensor {
  const n = Math.max(0, Math.ceil((end - start) / step));
  const data = allocate(options.dtype ?? "float32", n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n]);
}

export function randn(shape: readonly number[], rng: Generator, options: CreateOptions = {}): Tensor {
  const data = allocate(options.dtype ?? "float32", shapeSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return new Tensor(data, shape);
}

/** Uniform in [low, high). */
export function rand(
  shape: readonly number[],
  rng: Generator,
  low = 0,
  high = 1,
  options: CreateOptions = {},
): Tensor {
  const data = allocate(options.dtype ?? "float32", shapeSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * rng.uniform();
  return new Tensor(data, shape);
}

/** Integers uniform in [0, high), int32. */
export function randint(shape: readonly number[], high: number, rng: Generator): Tensor {
  const data = new Int32Array(shapeSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.int(high);
  return new Tensor(data, shape);
}
