import type { Module } from "../nn/index.js";
import * as T from "../tensor/index.js";
import type { Tensor } from "../tensor/index.js";

/** Keys and values of past positions, per layer, [B, H_kv, T_past, d] (grows by concatenation). */
export class KvCache {
  readonly layers: { k: Tensor | null; v: Tensor | null }[];

  constructor(numLayers: number) {
    this.layers = Array.from({ length: numLayers }, () => ({ k: null, v: null }));
  }

  /** Positions already cached. */
  get length(): number {
    return this.layers[0]?.k?.shape[2] ?? 0;
  }

  /** Appends this step's keys and values to layer i and returns the whole sequence's. */
  update(i: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const layer = this.layers[i];
    layer.k = layer.k ? T.concat([layer.k, k], 2) : k;
    layer.v = layer.v ? T.concat([layer.v, v], 2) : v;
    return { k: layer.k, v: layer.v };
  }
}

export interface DecoderInput {
  /** [B, T] padding mask over the past and current positions (1 real, 0 padding). */
  attentionMask?: Tensor | null;
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
 * Position ids [B, T] of the current tokens: with a padding mask, the count of real tokens before
 * each one (HF's cumsum(mask) − 1, so left padding does not shift positions); else past + t.
 */
export function positionIds(
  batch: number,
  steps: number,
  past: number,
  mask: Tensor | null | undefined,
): Int32Array {
  const out = new Int32Array(batch * steps);
  for (let b = 0; b < batch; b++) {
    let seen = 0;
    for (let t = 0; t < past + steps; t++) {
      const real = mask ? mask.data[b * (past + steps) + t] !== 0 : true;
      if (t >= past) out[b * steps + t - past] = Math.max(0, real ? seen : seen - 1);
      if (real) seen++;
    }
  }
  return out;
}
