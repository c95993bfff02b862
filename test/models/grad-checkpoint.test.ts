import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getPeftModel, methodNames } from "../../src/adapters/index.js";
import type { CausalLM } from "../../src/models/index.js";
import * as T from "../../src/tensor/index.js";
import { type Batch, nextTokenLoss } from "../../src/train/index.js";
import { LLAMA_CONFIG } from "../support/hf-folders.js";
import { randomModel } from "../support/random-model.js";

const BATCH: Batch = {
  ids: T.tensor(Int32Array.from([3, 17, 5, 30, 9, 22, 11, 2, 33, 7, 1, 1]), [2, 6]),
  attentionMask: T.tensor(Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]), [2, 6]),
  targets: T.tensor(Int32Array.from([3, 17, 5, 30, 9, 22, 11, 2, 33, 7, -100, -100]), [2, 6]),
  count: 8,
};

const GPT2 = {
  architectures: ["GPT2LMHeadModel"],
  vocab_size: 40,
  n_positions: 16,
  n_embd: 16,
  n_layer: 2,
  n_head: 4,
};
const BERT = {
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
function run(
  config: Record<string, unknown>,
  method: string,
  targetModules: string[],
  checkpoint: boolean,
): { losses: number[]; grads: Map<string, Float32Array> } {
  const model = randomModel(config).gradientCheckpointing(checkpoint);
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

function assertSame(config: Record<string, unknown>, method: string, targets: string[]): void {
  const plain = run(config, method, targets, false);
  const recomputed = run(config, method, targets, true);
  assert.deepEqual(recomputed.losses, plain.losses);
  // Dropout is live: the two steps drew different masks.
  assert.notEqual(plain.losses[0], plain.losses[1]);
  assert.ok(plain.grads.size > 0);
  for (const [name, g] of plain.grads) {
    assert.ok(
      g.some((v) => v !== 0),
      `${name}: zero gradient`,
    );
    assert.deepEqual(recomputed.grads.get(name), g, `${name}: gradients differ with checkpointing`);
  }
}

describe("gradient checkpointing gives bitwise the gradients of the plain backward, with dropout", () => {
  for (const method of methodNames())
    it(`Llama, ${method} on q_proj, v_proj, down_proj`, () =>
      assertSame(LLAMA_CONFIG, method, ["q_proj", "v_proj", "down_proj"]));
  it("GPT-2, lora on c_attn and c_fc", () => assertSame(GPT2, "lora", ["c_attn", "c_fc"]));
  it("BERT classifier, dora on query and value", () => assertSame(BERT, "dora", ["query", "value"]));
});
