import { getPeftModel } from "../../src/adapters/index.js";
import type { CausalLM } from "../../src/models/index.js";
import * as T from "../../src/tensor/index.js";
import { type Batch, nextTokenLoss } from "../../src/train/index.js";
import { randomModel } from "./random-model.js";

const BATCH: Batch = {
  ids: T.tensor(Int32Array.from([3, 17, 5, 30, 9, 22, 11, 2, 33, 7, 1, 1]), [2, 6]),
  attentionMask: T.tensor(Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]), [2, 6]),
  targets: T.tensor(Int32Array.from([3, 17, 5, 30, 9, 22, 11, 2, 33, 7, -100, -100]), [2, 6]),
  count: 8,
};

export const GPT2 = {
  architectures: ["GPT2LMHeadModel"],
  vocab_size: 40,
  n_positions: 16,
  n_embd: 16,
  n_layer: 2,
  n_head: 4,
};
export const BERT = {
  architectures: ["BertForSequenceClassification"],
  vocab_size: 40,
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 32,
  max_position_embeddings: 16,
  type_vocab_size: 2,
  id2label: { 0: "no", 1: "yes" },
};

/** Loss and gradients of two training steps (dropout draws new masks each), float32. */
export function twoSteps(
  config: Record<string, unknown>,
  method: string,
  targetModules: string[],
  checkpoint: boolean,
): { losses: number[]; grads: Map<string, Float32Array> } {
  const model = randomModel(config).gradientCheckpointing(checkpoint).train();
  const peft = getPeftModel(model, { method, targetModules, dropout: 0.3, seed: 4 });
  // Non-zero adapter tensors, so every factor gets a gradient.
  T.noGrad(() => {
    for (const [, t] of peft.trainableParameters())
      for (let i = 0; i < t.size; i++) t.data[i] += 0.05 * Math.sin(i + 1);
  });
  const losses: number[] = [];
  for (let step = 0; step < 2; step++) {
    const loss =
      "hiddenStates" in model
        ? nextTokenLoss(model as unknown as CausalLM, BATCH)
        : T.crossEntropy(
            peft.forward(BATCH.ids, { attentionMask: BATCH.attentionMask }),
            T.tensor(Int32Array.from([0, 1]), [2]),
          );
    loss.backward();
    losses.push(loss.item());
  }
  return {
    losses,
    grads: new Map(peft.trainableParameters().map(([n, t]) => [n, t.grad!.data as Float32Array])),
  };
}
