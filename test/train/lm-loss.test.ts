import { describe, it } from "node:test";
import { type AdapterConfigInput, getPeftModel } from "../../src/adapters/index.js";
import type { CausalLM } from "../../src/models/index.js";
import type { Module } from "../../src/nn/index.js";
import * as T from "../../src/tensor/index.js";
import type { Tensor } from "../../src/tensor/index.js";
import { type Batch, nextTokenLoss, taskLoss } from "../../src/train/index.js";
import { assertClose } from "../helpers.js";
import { LLAMA_CONFIG } from "../support/hf-folders.js";
import { randomModel } from "../support/random-model.js";
import { GPT2 } from "../support/two-steps.js";

const BATCH: Batch = {
  ids: T.tensor(Int32Array.from([3, 17, 5, 30, 9, 22, 11, 2, 33, 7, 1, 1]), [2, 6]),
  attentionMask: T.tensor(Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]), [2, 6]),
  targets: T.tensor(Int32Array.from([3, 17, 5, 30, 9, 22, -100, -100, 33, 7, -100, -100]), [2, 6]),
  count: 6,
};

/** The loss and the gradients of every trainable tensor, with the model trained as `setup` says. */
function lossAndGrads(
  config: Record<string, unknown>,
  setup: (m: Module) => Module,
  loss: (m: CausalLM) => Tensor,
): number[][] {
  const model = randomModel(config, { dtype: "float64" });
  const trained = setup(model);
  const l = loss(model as unknown as CausalLM);
  l.backward();
  const grads = trained
    .namedParameters()
    .filter(([, t]) => t.requiresGrad)
    .map(([, t]) => Array.from(t.grad!.data));
  return [[l.item()], ...grads];
}

const full = (m: Module): Module => m.requiresGrad(true);
const adapter =
  (config: Omit<AdapterConfigInput, "seed">) =>
  (m: Module): Module => {
    const peft = getPeftModel(m, { ...config, seed: 0 });
    return { namedParameters: () => peft.trainableParameters() } as unknown as Module;
  };

const CASES: [string, Record<string, unknown>, (m: Module) => Module][] = [
  ["Llama, untied head, full fine-tune", LLAMA_CONFIG, full],
  ["Llama, tied head, full fine-tune", { ...LLAMA_CONFIG, tie_word_embeddings: true }, full],
  [
    "Llama, LoRA on q_proj,v_proj",
    LLAMA_CONFIG,
    adapter({ method: "lora", targetModules: ["q_proj", "v_proj"] }),
  ],
  [
    "Llama, LoRA on lm_head (full logits)",
    LLAMA_CONFIG,
    adapter({ method: "lora", targetModules: ["lm_head"] }),
  ],
  [
    "Llama, lm_head in modules_to_save",
    LLAMA_CONFIG,
    adapter({ method: "lora", targetModules: ["q_proj"], modulesToSave: ["lm_head"] }),
  ],
  ["GPT-2 (tied head), full fine-tune", GPT2, full],
  ["GPT-2, DoRA on c_attn", GPT2, adapter({ method: "dora", targetModules: ["c_attn"] })],
];

describe("nextTokenLoss (chunked, from hidden states) equals the loss of the full logits", () => {
  for (const [label, config, setup] of CASES) {
    it(label, () => {
      const want = lossAndGrads(config, setup, (m) => taskLoss(m.forward(BATCH.ids, BATCH), BATCH));
      const got = lossAndGrads(config, setup, (m) => nextTokenLoss(m, BATCH));
      want.forEach((w, i) =>
        assertClose(got[i], w, { rtol: 1e-10, atol: 1e-13, what: i ? `gradient ${i}` : "loss" }),
      );
    });
  }
});
