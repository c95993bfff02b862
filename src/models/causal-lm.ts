import type { Children, Layer, Module } from "../nn/index.js";
import * as T from "../tensor/index.js";
import type { Tensor } from "../tensor/index.js";
import { PretrainedModel } from "./pretrained.js";

/** Keys and values of past positions, per layer, [B, T_past, H_kv·d] (grows by concatenation). */
export class KvCache {
  readonly layers: { k: Tensor | null; v: Tensor | null }[];

  constructor(numLayers: number) {
    this.layers = Array.from({ length: numLayers }, () => ({ k: null, v: null }));
  }

  /** Positions already cached. */
  get length(): number {
    return this.layers[0]?.k?.shape[1] ?? 0;
  }

  /** Appends this step's keys and values to layer i and returns the whole sequence's. */
  update(i: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const layer = this.layers[i];
    layer.k = layer.k ? T.concat([layer.k, k], 1) : k;
    layer.v = layer.v ? T.concat([layer.v, v], 1) : v;
    return { k: layer.k, v: layer.v };
  }
}

export interface DecoderInput {
  /** [B, T] padding mask over the past and current positions (1 real, 0 padding). */
  attentionMask?: Tensor | null;
  /** [B, T] positions of the current tokens; by default past + 0..T−1, as transformers. */
  positionIds?: Tensor | null;
  cache?: KvCache | null;
}

/** A decoder-only language model: logits [B, T, vocab] for ids [B, T]. */
export interface CausalLM extends Module {
  readonly vocabSize: number;
  readonly numLayers: number;
  /** lmHead() applied to hiddenStates(). */
  forward(ids: Tensor, input?: DecoderInput): Tensor;
  /** The last hidden states [B, T, hidden], after the final norm. */
  hiddenStates(ids: Tensor, input?: DecoderInput): Tensor;
  /** The output layer ("lm_head", or whatever an adapter put in its place). */
  lmHead(): Module;
}

export function isCausalLM(m: Module): m is CausalLM {
  return typeof (m as unknown as Partial<CausalLM>).hiddenStates === "function";
}

/**
 * Position ids [B, T] of the current tokens: the given ones, else past + t as transformers'
 * forward does (padding does not shift them; only generation derives positions from a mask).
 */
export function positionIds(batch: number, steps: number, past: number, given?: Tensor | null): Int32Array {
  if (given) {
    if (given.shape.length !== 2 || given.shape[0] !== batch || given.shape[1] !== steps)
      throw new Error(`positionIds must have shape [${batch}, ${steps}], got [${given.shape.join(", ")}]`);
    return Int32Array.from(given.data);
  }
  return Int32Array.from({ length: batch * steps }, (_, i) => past + (i % steps));
}

/**
 * What GPT-2 and the Llama family share as causal LMs: logits are the "lm_head" of the hidden
 * states, a KV cache per layer, and a head tied to the embeddings unless the config says not.
 */
export abstract class PretrainedCausalLM<C extends Children & { lm_head: Layer }>
  extends PretrainedModel<C>
  implements CausalLM
{
  readonly peftTaskType = "CAUSAL_LM";
  abstract readonly config: { vocabSize: number; numLayers: number; tieWordEmbeddings: boolean };

  abstract hiddenStates(ids: Tensor, input?: DecoderInput): Tensor;

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  get numLayers(): number {
    return this.config.numLayers;
  }

  newCache(): KvCache {
    return new KvCache(this.config.numLayers);
  }

  override tiedNames(): string[] {
    return this.config.tieWordEmbeddings ? ["lm_head.weight"] : [];
  }

  lmHead(): Layer {
    return this.child("lm_head");
  }

  forward(ids: Tensor, input: DecoderInput = {}): Tensor {
    return this.lmHead().forward(this.hiddenStates(ids, input));
  }
}
