import { join } from "node:path";
import { makeDir, writeJsonFile } from "../io/index.js";
import { bpeTokenizerJson, trainBpe } from "../models/bpe.js";
import { buildModel, HFTokenizer, saveModel } from "../models/index.js";
import { Generator, noGrad } from "../tensor/index.js";
import { type Example, fullModelTarget, type LogEntry, Trainer } from "../train/index.js";
import { pretrainingTexts } from "./corpus.js";

export const SPECIAL_TOKENS = ["<|endoftext|>", "<|pad|>"];

/**
 * The built-in model's architecture: a small Llama (about 2.4 M parameters with a 4096 vocabulary,
 * the embedding tied to the head).
 */
export function defaultModelConfig(vocabSize: number): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: vocabSize,
    hidden_size: 192,
    intermediate_size: 512,
    num_hidden_layers: 4,
    num_attention_heads: 6,
    num_key_value_heads: 2,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    bos_token_id: null,
    eos_token_id: 0,
    pad_token_id: 1,
    torch_dtype: "bfloat16",
  };
}

export interface PretrainOptions {
  outDir: string;
  vocabSize?: number;
  seqLength?: number;
  batchSize?: number;
  steps?: number;
  lr?: number;
  seed?: number;
  onLog?: (e: LogEntry) => void;
}

/** A plain chat template ("role: content<|endoftext|>" per turn), so chat data trains the built-in model. */
export const CHAT_TEMPLATE =
  "{% for m in messages %}{{ m.role }}: {{ m.content }}<|endoftext|>\n{% endfor %}" +
  "{% if add_generation_prompt %}assistant:{% endif %}";

/**
 * Reproduces the built-in model from scratch: a byte-level BPE on Moby-Dick and the State of
 * the Union addresses, then a small Llama pretrained on the same text (next-token prediction,
 * AdamW, cosine schedule). Writes config.json, model.safetensors, tokenizer.json and
 * tokenizer_config.json into outDir.
 */
export async function pretrainDefault(o: PretrainOptions): Promise<{ validationLoss: number }> {
  const { outDir, vocabSize = 4096, seqLength = 128, batchSize = 16, steps = 600, lr = 3e-3, seed = 0 } = o;
  makeDir(outDir);
  const texts = pretrainingTexts();
  const { vocab, merges } = trainBpe(texts, { vocabSize, specialTokens: SPECIAL_TOKENS });
  writeJsonFile(join(outDir, "tokenizer.json"), bpeTokenizerJson(vocab, merges, SPECIAL_TOKENS));
  writeJsonFile(join(outDir, "tokenizer_config.json"), {
    eos_token: SPECIAL_TOKENS[0],
    pad_token: SPECIAL_TOKENS[1],
    padding_side: "right",
    model_max_length: 256,
    tokenizer_class: "PreTrainedTokenizerFast",
    chat_template: CHAT_TEMPLATE,
  });
  const tok = HFTokenizer.load(outDir);
  // One stream of tokens, texts separated by <|endoftext|>, cut into blocks; every 50th block is validation.
  const stream: number[] = [];
  for (const t of texts) stream.push(...tok.encode(t), tok.eosId!);
  const blocks: Example[] = [];
  for (let i = 0; i + seqLength <= stream.length; i += seqLength) {
    const ids = Int32Array.from(stream.slice(i, i + seqLength));
    blocks.push({ ids, targets: ids });
  }
  const validation = blocks.filter((_, i) => i % 50 === 0).slice(0, 64);
  const train = blocks.filter((_, i) => i % 50 !== 0);
  const model = buildModel(defaultModelConfig(vocab.size));
  // HF's Llama init: normal(0, 0.02) weights, norms at one.
  const rng = new Generator(seed);
  noGrad(() => {
    for (const [name, t] of model.namedParameters()) {
      if (name.endsWith("norm.weight")) t.data.fill(1);
      else for (let i = 0; i < t.size; i++) t.data[i] = rng.normal(0, 0.02);
    }
  });
  const trainer = new Trainer({
    target: fullModelTarget(model),
    train,
    validation,
    config: {
      batchSize,
      maxSteps: steps,
      lr,
      schedule: "cosine",
      warmupSteps: Math.round(steps / 20),
      weightDecay: 0.1,
      clipNorm: 1,
      seed,
      evalEvery: Math.max(1, Math.floor(steps / 6)),
    },
    padId: tok.padId,
    hooks: { onLog: o.onLog },
  });
  await trainer.run();
  // Stored as bfloat16 (half the size; loaded back as float32).
  saveModel(model, outDir, { dtype: "BF16" });
  return { validationLoss: trainer.evaluate(validation).loss };
}
