import * as T from "../tensor/index.js";
import type { Tensor } from "../tensor/index.js";
import { applyLowRank, type WeightView } from "./view.js";

/**
 * An adapter's weight update ΔW [out, in], in the cheapest form its method allows:
 * low-rank factors scale · B A (B [out, k], A [k, in]) applied as (x Aᵀ) Bᵀ, or a dense matrix
 * (scale already folded in) when an element-wise activation forbids factoring.
 */
export type Delta = ({ kind: "low-rank" } & LowRank) | { kind: "dense"; w: Tensor };
export interface LowRank {
  a: Tensor;
  b: Tensor;
  scale: number;
}

export const lowRank = (a: Tensor, b: Tensor, scale: number): Delta => ({ kind: "low-rank", a, b, scale });

/** ΔW as a dense [out, in] matrix (merge, and the tests' reference formula). */
export function denseDelta(d: Delta): Tensor {
  return d.kind === "dense" ? d.w : T.mulScalar(T.matmul(d.b, d.a), d.scale);
}

/** ΔW x for a batch x [..., in] (ids for an embedding), never forming ΔW when it is low-rank. */
export function applyDelta(view: WeightView, x: Tensor, d: Delta): Tensor {
  if (d.kind === "low-rank") return applyLowRank(view, x, d);
  if (view.kind === "embedding") throw new Error("a dense update cannot be applied to an embedding");
  return T.matmul(x, d.w, { transB: true });
}

/** first − second, staying low-rank when both are (the factors are stacked: [B1, −B2][A1; A2]). */
export function subtractDelta(first: Delta, second: Delta): Delta {
  if (first.kind === "low-rank" && second.kind === "low-rank" && first.scale !== 0) {
    const b2 = T.mulScalar(second.b, -second.scale / first.scale);
    return lowRank(T.concat([first.a, second.a], 0), T.concat([first.b, b2], 1), first.scale);
  }
  return { kind: "dense", w: T.sub(denseDelta(first), denseDelta(second)) };
}
