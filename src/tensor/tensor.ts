import type { FloatArray } from "../backend/index.js";
import { backward, type GradFn } from "./autograd.js";
import { decodeHalf } from "./half.js";
import { noteMade, SMALL_BUFFER_BYTES, takeStorage } from "./storage-pool.js";

export type DType = "float32" | "float64" | "int32";
/** How a frozen weight read from a bf16/f16 file can stay in memory (docs/memory.md): 16-bit words. */
export type HalfDType = "bfloat16" | "float16";
export type Storage = Float32Array | Float64Array | Int32Array;
/** The 16-bit words of a half tensor. */
export type HalfStorage = Uint16Array;

export function dtypeOf(data: Storage): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  return "int32";
}

export function allocate(dtype: DType, size: number): Storage {
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "float64":
      return new Float64Array(size);
    case "int32":
      return new Int32Array(size);
  }
}

const NodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow(bytes: number): Uint8Array } }).Buffer;

/**
 * Storage with unspecified contents, for outputs a kernel overwrites whole: a buffer the backward
 * recycled (src/tensor/storage-pool.ts) when there is one of this size.
 */
export function empty(dtype: DType, size: number): Storage {
  const bytes = size * (dtype === "float64" ? 8 : 4);
  const data =
    takeStorage(dtype, size) ??
    // Every kernel that writes a fresh output writes all of it, so zeroing a large one would be a
    // wasted pass over memory (and page faults when fresh).
    (NodeBuffer && bytes >= SMALL_BUFFER_BYTES
      ? fresh(dtype, size, NodeBuffer.allocUnsafeSlow(bytes).buffer)
      : allocate(dtype, size));
  noteMade(data);
  return data;
}

function fresh(dtype: DType, size: number, buf: ArrayBufferLike): Storage {
  return dtype === "float64"
    ? new Float64Array(buf, 0, size)
    : dtype === "float32"
      ? new Float32Array(buf, 0, size)
      : new Int32Array(buf, 0, size);
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** A dense row-major array of float32, float64 or int32, optionally tracked by autograd. */
export class Tensor {
  readonly data: Storage | HalfStorage;
  readonly shape: readonly number[];
  /** float32 for a half tensor: what it holds and what ops on it compute in. */
  readonly dtype: DType;
  /** The 16-bit format of a frozen weight kept as in its file (docs/memory.md), else null. */
  readonly half: HalfDType | null = null;
  /** True for leaves the user asked gradients of, and for every result computed from them. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after backward(); cleared by zeroGrad(). */
  grad: Tensor | null = null;
  gradFn: GradFn | null = null;

  /** half names the format of Uint16Array data (bfloat16 or float16). */
  constructor(data: Storage | HalfStorage, shape: readonly number[], half?: HalfDType) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`invalid tensor shape ${formatShape(shape)}`);
    }
    if (shapeSize(shape) !== data.length) {
      throw new Error(`shape ${formatShape(shape)} needs ${shapeSize(shape)} elements, got ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    if (data instanceof Uint16Array) {
      if (!half) throw new Error("a tensor of 16-bit words needs its format: bfloat16 or float16");
      this.half = half;
      this.dtype = "float32";
    } else this.dtype = dtypeOf(data);
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get isFloat(): boolean {
    return this.dtype !== "int32";
  }

  /** The storage as a typed array of its dtype; an error for a half tensor, which ops read through halfWeight.ts. */
  get storage(): Storage {
    if (this.data instanceof Uint16Array)
      throw new Error(
        `this op needs float32 values, and the tensor is a ${this.half} weight kept in its file's precision (load with halfWeights: false, --float32-weights)`,
      );
    return this.data;
  }

  /** The storage as a float array; an error for int32 tensors. */
  get floatData(): FloatArray {
    const data = this.storage;
    if (data instanceof Int32Array) throw new Error("expected a float tensor, got int32");
    return data;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1)
      throw new Error(`item() needs a tensor of one element, got shape ${formatShape(this.shape)}`);
    return this.data[0];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** Marks a leaf tensor as a parameter to differentiate; returns this. */
  requireGrad(flag = true): this {
    if (this.gradFn) throw new Error("requireGrad() applies to leaf tensors only; use detach() first");
    this.requiresGrad = flag;
    return this;
  }

  /** The same data, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, this.half ?? undefined);
  }

  /** A copy with its own storage, cut from the graph. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape, this.half ?? undefined);
  }

  /** Converts to another dtype (a copy, cut from the graph). */
  to(dtype: DType): Tensor {
    if (this.half) {
      const wide = new Float32Array(this.size);
      decodeHalf(this.half, this.data as HalfStorage, 0, this.size, wide, 0);
      return dtype === "float32" ? new Tensor(wide, this.shape) : new Tensor(wide, this.shape).to(dtype);
    }
    if (dtype === this.dtype) return this.clone();
    const out = allocate(dtype, this.size);
    out.set(this.data);
    return new Tensor(out, this.shape);
  }

  zeroGrad(): void {
    this.grad = null;
  }

  /** Back-propagates from this tensor: a scalar, or any shape with an explicit output gradient. */
  backward(grad?: Tensor): void {
    if (!grad) {
      if (this.size !== 1) {
        throw new Error(`backward() without a gradient needs a scalar, got shape ${formatShape(this.shape)}`);
      }
      grad = new Tensor(allocate(this.dtype, 1).fill(1), this.shape);
    }
    backward(this, grad);
  }

  toString(): string {
    const shown =
      this.size <= 8 ? this.toArray().join(", ") : `${Array.from(this.data.subarray(0, 8)).join(", ")}, …`;
    return `Tensor(${this.dtype} ${formatShape(this.shape)} [${shown}])`;
  }
}
