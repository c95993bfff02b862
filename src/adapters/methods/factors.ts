import { init } from "../../nn/index.js";
import * as T from "../../tensor/index.js";
import type { Tensor } from "../../tensor/index.js";
import type { InitKind, MethodContext, ModuleShape } from "../method.js";

/** PyTorch's kaiming_uniform_(a=√5) on a new tensor: U(±1/√fan_in). */
export function kaiming(ctx: MethodContext, shape: number[]): Tensor {
  return init.kaimingUniform_(T.zeros(shape, { dtype: ctx.dtype }), ctx.rng);
}

export function zeros(ctx: MethodContext, shape: number[]): Tensor {
  return T.zeros(shape, { dtype: ctx.dtype });
}

/**
 * LoRA's A [r, in] and B [out, r] as PEFT initialises them: A kaiming, B zero (`gaussian`: A ~
 * N(0, 1/r)); on an embedding PEFT swaps the roles (A zero, B ~ N(0, 1)). `nonzero` draws both.
 */
export function loraPair(ctx: MethodContext, kind: InitKind, r = ctx.r): { a: Tensor; b: Tensor } {
  const { m, n } = ctx.view;
  if (kind === "nonzero") return { a: kaiming(ctx, [r, n]), b: kaiming(ctx, [m, r]) };
  if (ctx.view.kind === "embedding") {
    return { a: zeros(ctx, [r, n]), b: init.normal_(zeros(ctx, [m, r]), ctx.rng) };
  }
  const a = kind === "gaussian" ? init.normal_(zeros(ctx, [r, n]), ctx.rng, 0, 1 / r) : kaiming(ctx, [r, n]);
  return { a, b: zeros(ctx, [m, r]) };
}

/** PEFT's tensor names of a LoRA pair: lora_A.weight / lora_B.weight, lora_embedding_A / _B on embeddings. */
export function loraNames(ctx: MethodContext): { a: string; b: string } {
  return ctx.view.kind === "embedding"
    ? { a: "lora_embedding_A", b: "lora_embedding_B" }
    : { a: "lora_A.weight", b: "lora_B.weight" };
}

/** The names of a LoRA pair in an adapter file. */
export const LORA_TENSORS = /lora_[AB]\.weight|lora_embedding_[AB]/;

/** [out, in] of a module from its LoRA pair (B's rows, A's columns); an embedding by its names. */
export function loraShape(tensors: ReadonlyMap<string, Tensor>): ModuleShape | null {
  const embedding = tensors.has("lora_embedding_A");
  const a = tensors.get(embedding ? "lora_embedding_A" : "lora_A.weight");
  const b = tensors.get(embedding ? "lora_embedding_B" : "lora_B.weight");
  return a && b ? { kind: embedding ? "embedding" : "linear", m: b.shape[0], n: a.shape[1] } : null;
}

/** A named tensor of a map, or an error naming it (loaders check names first; this guards the rest). */
export function need(tensors: ReadonlyMap<string, Tensor>, name: string): Tensor {
  const t = tensors.get(name);
  if (!t) throw new Error(`adapter tensor "${name}" is missing`);
  return t;
}

/**
 * MoreLoRA's tiled identities (docs/methods.md §1.2): I_A [r, n] with I_A[i, q] = 1 iff q mod r = i,
 * and I_B [m, r] with I_B[p, i] = 1 iff p mod r = i (truncated when r does not divide n or m).
 */
export function tiledIdentities(ctx: MethodContext, r: number): { ia: Tensor; ib: Tensor } {
  const { m, n } = ctx.view;
  const ia = zeros(ctx, [r, n]);
  for (let q = 0; q < n; q++) ia.data[(q % r) * n + q] = 1;
  const ib = zeros(ctx, [m, r]);
  for (let p = 0; p < m; p++) ib.data[p * r + (p % r)] = 1;
  return { ia, ib };
}
