import * as T from "../../tensor/index.js";
import type { Tensor } from "../../tensor/index.js";
import { type Delta, lowRank } from "../delta.js";
import type { MethodOption, ModuleShape } from "../method.js";

export type Activation = "none" | "tanh" | "sigmoid";

declare module "../config.js" {
  interface MethodOptions {
    /** Hadamard and Hadamard-Add: the number of factors the rank budget r is split into. */
    k: number;
  }
}

/** The option both Hadamard methods read. */
export const K_OPTION: MethodOption = {
  key: "k",
  type: "integer",
  default: 2,
  min: 1,
  help: "hadamard / hadamard-add: number of factors",
};

/** The tensor names of the Hadamard methods' factor pairs. */
export const FACTOR_TENSORS = /hadamard_[UV]\d+\.weight/;

/** Row-wise Kronecker (face-splitting) product: P[p, (a, b)] = P1[p, a] · P2[p, b]. */
function faceSplitRows(p1: Tensor, p2: Tensor): Tensor {
  const [m, d1] = p1.shape;
  const d2 = p2.shape[1];
  return T.reshape(T.mul(T.reshape(p1, [m, d1, 1]), T.reshape(p2, [m, 1, d2])), [m, d1 * d2]);
}

/** Column-wise Kronecker product: Q[(a, b), q] = Q1[a, q] · Q2[b, q]. */
function faceSplitCols(q1: Tensor, q2: Tensor): Tensor {
  const [d1, n] = q1.shape;
  const d2 = q2.shape[0];
  return T.reshape(T.mul(T.reshape(q1, [d1, 1, n]), T.reshape(q2, [1, d2, n])), [d1 * d2, n]);
}

const ACTIVATIONS: Record<Exclude<Activation, "none">, (t: Tensor) => Tensor> = {
  tanh: T.tanh,
  sigmoid: T.sigmoid,
};

/**
 * scale · ⊙ᵢ act(Pᵢ Qᵢ) for factor pairs Pᵢ [m, dᵢ], Qᵢ [dᵢ, n] (docs/methods.md §1.3). Without an
 * activation it stays low-rank through (P1 ⊠ P2 ⊠ …)(Q1 ⊠ Q2 ⊠ …), of inner size Πdᵢ, when that
 * is smaller than min(m, n) (or when `form` asks); otherwise ΔW is formed.
 */
export function hadamardDelta(
  ps: readonly Tensor[],
  qs: readonly Tensor[],
  scale: number,
  activation: Activation,
  form: "auto" | "factored" | "dense" = "auto",
): Delta {
  const [m, n] = [ps[0].shape[0], qs[0].shape[1]];
  const inner = ps.reduce((prod, p) => prod * p.shape[1], 1);
  const factored =
    activation === "none" && (form === "factored" || (form === "auto" && inner < Math.min(m, n)));
  if (factored) return lowRank(qs.reduce(faceSplitCols), ps.reduce(faceSplitRows), scale);
  if (form === "factored") throw new Error("a Hadamard product with an activation has no factored form");
  const act = activation === "none" ? (t: Tensor): Tensor => t : ACTIVATIONS[activation];
  const product = ps.map((p, i) => act(T.matmul(p, qs[i]))).reduce((acc, t) => T.mul(acc, t));
  return { kind: "dense", w: T.mulScalar(product, scale) };
}

/** The names of factor pair i (from 1) of the Hadamard methods. */
export const factorNames = (i: number): { u: string; v: string } => ({
  u: `hadamard_U${i}.weight`,
  v: `hadamard_V${i}.weight`,
});

/** The module's [out, in] from its first factor pair. */
export function factorShape(tensors: ReadonlyMap<string, Tensor>): ModuleShape | null {
  const { u, v } = factorNames(1);
  const [first, second] = [tensors.get(u), tensors.get(v)];
  return first && second ? { kind: "linear", m: first.shape[0], n: second.shape[1] } : null;
}

/** The rank of each of the k factor pairs a budget r is split into; an error unless k divides r. */
export function splitRank(r: number, k: number, method: string): number {
  if (r % k !== 0)
    throw new Error(`${method}: r = ${r} must be divisible by k = ${k} (each factor gets rank r / k)`);
  return r / k;
}
