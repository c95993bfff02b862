import { ModulesToSaveLayer } from "../adapters/index.js";
import type { CausalLM } from "../models/index.js";
import { Linear, type Module } from "../nn/index.js";
import * as T from "../tensor/index.js";
import type { Tensor } from "../tensor/index.js";
import { type Batch, IGNORE } from "./tasks.js";

/** Targets [B·T] for the logits of every position: position t predicts token t + 1; the last none. */
export function nextTokenTargets(targets: Tensor): Tensor {
  const [b, t] = targets.shape;
  const out = new Int32Array(b * t).fill(IGNORE);
  for (let i = 0; i < b; i++) out.set(targets.data.subarray(i * t + 1, (i + 1) * t), i * t);
  return T.tensor(out, [b * t]);
}

/** The head as a plain bias-free Linear, seeing through a modules_to_save wrapper; else null. */
function plainHead(head: Module): Linear | null {
  const m = head instanceof ModulesToSaveLayer ? head.current : head;
  return m instanceof Linear && m.bias === null ? m : null;
}

/**
 * Mean next-token cross-entropy of a causal LM, from its last hidden states: a plain head goes
 * through linearCrossEntropy in row chunks, so the [B·T, vocab] logits are never held whole
 * (docs/memory.md); an adapted head (LoRA on lm_head) computes its logits in full.
 */
export function nextTokenLoss(model: CausalLM, batch: Batch): Tensor {
  const hidden = model.hiddenStates(batch.ids, { attentionMask: batch.attentionMask });
  const [b, t, d] = hidden.shape;
  const all = nextTokenTargets(batch.targets).data as Int32Array;
  // Only positions with a target reach the head: with prompt/completion data or padding, most rows
  // are ignored, and the vocabulary-wide product is the step's largest.
  const kept: number[] = [];
  all.forEach((y, i) => y !== IGNORE && kept.push(i));
  const every = kept.length === b * t;
  const flat = T.reshape(hidden, [b * t, d]);
  const rows = every ? flat : T.indexSelect(flat, 0, kept);
  const targets = T.tensor(every ? all : Int32Array.from(kept, (i) => all[i]), [kept.length]);
  const head = model.lmHead();
  const linear = plainHead(head);
  if (linear) return T.linearCrossEntropy(rows, linear.weight, targets, { ignoreIndex: IGNORE });
  const logits = (head as Module & { forward(x: Tensor): Tensor }).forward(rows);
  return T.crossEntropy(logits, targets, { ignoreIndex: IGNORE });
}
