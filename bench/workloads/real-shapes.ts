import { getPeftModel } from "../../src/adapters/index.js";
import { buildModel, type LlamaForCausalLM } from "../../src/models/index.js";
import { Embedding, Linear } from "../../src/nn/index.js";
import * as T from "../../src/tensor/index.js";
import { encodeHalf, Generator, noGrad, Tensor } from "../../src/tensor/index.js";
import { AdamW, type Batch, nextTokenLoss } from "../../src/train/index.js";

/** Published shapes (config.json of HuggingFaceTB/SmolLM2-135M and Qwen/Qwen2.5-0.5B). */
export const REAL_SHAPES = {
  "smollm2-135m": {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: 49152,
    hidden_size: 576,
    intermediate_size: 1536,
    num_hidden_layers: 30,
    num_attention_heads: 9,
    num_key_value_heads: 3,
    rms_norm_eps: 1e-5,
    rope_theta: 100000,
    tie_word_embeddings: true,
  },
  "qwen2.5-0.5b": {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    vocab_size: 151936,
    hidden_size: 896,
    intermediate_size: 4864,
    num_hidden_layers: 24,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    tie_word_embeddings: true,
  },
} as const;

export interface RealShapeRun {
  model: keyof typeof REAL_SHAPES;
  batch: number;
  seq: number;
  gradCheckpoint: boolean;
  /** The base weights' format: bf16 as in the published checkpoints (train keeps them so), or float32. */
  weights: "bf16" | "f32";
}

/**
 * Puts bfloat16 copies in place of the weight matrices of the Linear and Embedding layers, frozen:
 * what `train` keeps of a bf16 checkpoint such as the published ones (docs/memory.md).
 */
function bf16Weights(model: LlamaForCausalLM): void {
  for (const [, m] of model.namedModules()) {
    const w = m instanceof Linear || m instanceof Embedding ? m.weight : null;
    if (!w || w.half) continue;
    // A plain loop: Uint16Array.from(values, fn) would first collect the values in a list (GBs).
    const words = new Uint16Array(w.size);
    for (let i = 0; i < words.length; i++) words[i] = encodeHalf("bfloat16", w.data[i]);
    // One at a time (a tied head with its embedding), so each float32 matrix can go at once.
    model.replaceTensors(new Map([[w, new Tensor(words, w.shape, "bfloat16")]]));
  }
}

/**
 * One training step of LoRA r = 8, alpha = 16 on q_proj and v_proj of a random-weight model with
 * published shapes, built in memory (nothing downloaded): next-token loss (chunked, from the hidden
 * states, as the trainer computes it), backward, AdamW 1e-4.
 */
export function realShapeStep({
  model: name,
  batch,
  seq,
  gradCheckpoint,
  weights,
}: RealShapeRun): () => void {
  const config = REAL_SHAPES[name];
  const model = buildModel({ ...config }) as LlamaForCausalLM;
  // buildModel draws torch's inits; the embedding (also the tied head) is scaled to std 0.02 as trained models have.
  noGrad(() => {
    const emb = model.getSubmodule("model.embed_tokens").param("weight")!.data;
    for (let i = 0; i < emb.length; i++) emb[i] *= 0.02;
  });
  if (weights === "bf16") bf16Weights(model);
  model.gradientCheckpointing(gradCheckpoint);
  const peft = getPeftModel(model, { method: "lora", r: 8, alpha: 16, targetModules: ["q_proj", "v_proj"] });
  const opt = new AdamW(
    peft.trainableParameters().map(([, t]) => t),
    { lr: 1e-4 },
  );
  const ids = T.randint([batch, seq], config.vocab_size, new Generator(1));
  const data: Batch = {
    ids,
    attentionMask: T.tensor(new Int32Array(batch * seq).fill(1), [batch, seq]),
    targets: ids,
    count: batch * (seq - 1),
  };
  return () => {
    opt.zeroGrad();
    nextTokenLoss(model, data).backward();
    opt.step();
  };
}
