import { getPeftModel } from "../../src/adapters/index.js";
import { buildModel, type LlamaForCausalLM } from "../../src/models/index.js";
import * as T from "../../src/tensor/index.js";
import { Generator } from "../../src/tensor/index.js";
import { AdamW } from "../../src/train/index.js";

export const LLAMA_BENCH = { batch: 8, seq: 128 };

/**
 * The llama-lora / llama-dora workload: LlamaForCausalLM (vocab 4096, hidden 256,
 * intermediate 1024, 4 layers, 4 heads, 4 KV heads, untied), random weights, batch 8 × 128 tokens,
 * r = 8, alpha = 16 on q_proj and v_proj, next-token cross-entropy, AdamW 1e-3. One step =
 * forward + backward + optimizer step.
 */
export function llamaAdapterStep(method: "lora" | "dora"): () => void {
  const model = buildModel({
    architectures: ["LlamaForCausalLM"],
    vocab_size: 4096,
    hidden_size: 256,
    intermediate_size: 1024,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 4,
    rope_theta: 10000,
    rms_norm_eps: 1e-5,
    tie_word_embeddings: false,
  }) as LlamaForCausalLM;
  const rng = new Generator(1);
  for (const [, t] of model.namedParameters())
    for (let i = 0; i < t.size; i++) t.data[i] = rng.normal(0, 0.02);
  const peft = getPeftModel(model, { method, r: 8, alpha: 16, targetModules: ["q_proj", "v_proj"] });
  const opt = new AdamW(
    peft.trainableParameters().map(([, t]) => t),
    { lr: 1e-3 },
  );
  const { batch, seq } = LLAMA_BENCH;
  const ids = T.randint([batch, seq + 1], 4096, rng);
  const input = T.slice(ids, 1, 0, seq);
  const targets = T.reshape(T.slice(ids, 1, 1, seq + 1), [batch * seq]);
  return () => {
    opt.zeroGrad();
    const logits = peft.forward(input);
    T.crossEntropy(T.reshape(logits, [batch * seq, 4096]), targets).backward();
    opt.step();
  };
}
