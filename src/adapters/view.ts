import * as T from "../tensor/index.js";
import { type Tensor, noGrad } from "../tensor/index.js";
import type { LowRankTerm } from "../tensor/index.js";

/**
 * How a base layer's weight is stored. Methods always think of W0 as [out, in] (PyTorch Linear);
 * the view hides the layout: GPT-2's Conv1D stores [in, out], and an Embedding table [V, D] is a
 * map from one-hot ids (in = V) to vectors (out = D), i.e. also stored [in, out].
 */
export type BaseKind = "linear" | "conv1d" | "embedding";

/**
 * A frozen base weight seen as W0 [out, in], with the products adapters need taken through
 * transpose flags instead of copies, so nothing m×n is formed outside merge.
 */
export class WeightView {
  readonly m: number;
  readonly n: number;
  private normsSq: Tensor | null = null;

  constructor(
    readonly kind: BaseKind,
    /** The stored tensor: [out, in] for linear, [in, out] for conv1d and embedding. */
    readonly weight: Tensor,
    readonly bias: Tensor | null = null,
  ) {
    if (weight.ndim !== 2) throw new Error(`an adapted weight must be 2-D, got shape [${weight.shape}]`);
    [this.m, this.n] = this.outIn ? weight.shape : [weight.shape[1], weight.shape[0]];
  }

  /** True when the stored layout is already [out, in]. */
  get outIn(): boolean {
    return this.kind === "linear";
  }

  /** The stored weight in float32 when it is kept in half precision (a copy for this use only). */
  private get values(): Tensor {
    return this.weight.half ? this.weight.to("float32") : this.weight;
  }

  /** W0 · tᵀ for t [r, in]: [out, r]. */
  weightTimesT(t: Tensor): Tensor {
    return this.outIn
      ? T.matmul(this.values, t, { transB: true })
      : T.matmul(this.values, t, { transA: true, transB: true });
  }

  /** t · W0 for t [r, out]: [r, in]. */
  tTimesWeight(t: Tensor): Tensor {
    return this.outIn ? T.matmul(t, this.values) : T.matmul(t, this.values, { transB: true });
  }

  /** ‖W0‖² of each output row, [out]; computed once (the base is frozen). */
  rowNormsSq(): Tensor {
    this.normsSq ??= noGrad(() => {
      const w = this.outIn ? this.values : T.transpose(this.values);
      return T.sum(T.mul(w, w), 1);
    });
    return this.normsSq;
  }

  /** W0 as a new [out, in] tensor (merge and dense formulas only). */
  dense(): Tensor {
    return noGrad(() => (this.outIn ? this.values.clone() : T.transpose(this.values).detach()));
  }

  /** x · Aᵀ: the adapter's input projection; for an embedding, x holds ids and this gathers columns of A. */
  projectIn(x: Tensor, a: Tensor): Tensor {
    if (this.kind !== "embedding") return T.matmul(x, a, { transB: true });
    const cols = T.indexSelect(a, 1, x.data as Int32Array);
    return T.reshape(T.transpose(cols), [...x.shape, a.shape[0]]);
  }

  /** The base output x W0ᵀ (+ bias when withBias), with an optional low-rank term fused in. */
  forward(
    x: Tensor,
    { withBias = true, lowRank = null }: { withBias?: boolean; lowRank?: LowRankTerm | null } = {},
  ): Tensor {
    if (this.kind === "embedding") {
      const rows = T.reshape(T.indexSelect(this.weight, 0, x.data as Int32Array), [...x.shape, this.m]);
      return lowRank ? T.add(rows, applyLowRank(this, x, lowRank)) : rows;
    }
    return T.linear(x, this.weight, {
      bias: withBias ? this.bias : null,
      lowRank,
      layout: this.outIn ? "out-in" : "in-out",
    });
  }

  /** Writes W0 + delta (delta [out, in]) into the stored weight, in its layout. */
  assign(outIn: Tensor): void {
    const stored = this.outIn ? outIn : noGrad(() => T.transpose(outIn));
    const half = this.weight.half;
    if (!half) return this.weight.floatData.set(stored.floatData);
    // A weight kept in half precision is merged in it, rounded as PEFT merges into a bf16 weight.
    const words = this.weight.data as Uint16Array;
    const values = stored.floatData;
    for (let i = 0; i < words.length; i++) words[i] = T.encodeHalf(half, values[i]);
  }
}

/** scale · (x Aᵀ) Bᵀ without forming B A. */
export function applyLowRank(view: WeightView, x: Tensor, { a, b, scale }: LowRankTerm): Tensor {
  return T.mulScalar(T.matmul(view.projectIn(x, a), b, { transB: true }), scale);
}
