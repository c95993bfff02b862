import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { saveSafetensors } from "../../src/io/index.js";
import { specialToken } from "../../src/models/bpe.js";
import { Generator, type Tensor } from "../../src/tensor/index.js";
import * as T from "../../src/tensor/index.js";

/**
 * Tiny HuggingFace model folders, written the way HF writes them: config.json with HF's field
 * names and model.safetensors with HF's tensor names, which the tests spell out here
 * independently of morelora's model code.
 */
export function randomTensors(
  shapes: Record<string, number[]>,
  seed: number,
  std = 0.2,
): Map<string, Tensor> {
  const rng = new Generator(seed);
  return new Map(
    Object.entries(shapes).map(([name, shape]) => {
      const t = T.randn(shape, rng);
      for (let i = 0; i < t.size; i++) t.data[i] *= name.endsWith("norm.weight") ? 0.1 : std;
      // Norm weights near 1, as trained models have.
      if (/norm\.weight$|LayerNorm\.weight$|ln_\w+\.weight$/.test(name))
        for (let i = 0; i < t.size; i++) t.data[i] += 1;
      return [name, t];
    }),
  );
}

export function writeFolder(
  dir: string,
  config: Record<string, unknown>,
  tensors: Map<string, Tensor>,
): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2));
  saveSafetensors(join(dir, "model.safetensors"), tensors, { format: "pt" });
  return dir;
}

export const LLAMA_CONFIG = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  vocab_size: 48,
  hidden_size: 16,
  intermediate_size: 40,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 128,
  tie_word_embeddings: false,
  torch_dtype: "float32",
};

/**
 * Llama 3's rope_scaling at a tiny model's scale: with head dim 8 and theta 1e4 the wavelengths are
 * 6.3, 63, 628 and 6283 positions, one in each band (kept below 64/4, smoothed between, ÷8 above 64).
 */
export const LLAMA3_ROPE_SCALING = {
  rope_type: "llama3",
  factor: 8,
  low_freq_factor: 1,
  high_freq_factor: 4,
  original_max_position_embeddings: 64,
};

/** HF's LlamaForCausalLM tensor names and shapes for a config. */
export function llamaShapes(
  c: typeof LLAMA_CONFIG & { attention_bias?: boolean },
  qkvBias = false,
): Record<string, number[]> {
  const hd = c.hidden_size / c.num_attention_heads;
  const kv = c.num_key_value_heads * hd;
  const shapes: Record<string, number[]> = {
    "model.embed_tokens.weight": [c.vocab_size, c.hidden_size],
    "model.norm.weight": [c.hidden_size],
  };
  if (!c.tie_word_embeddings) shapes["lm_head.weight"] = [c.vocab_size, c.hidden_size];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    Object.assign(shapes, {
      [`${p}.input_layernorm.weight`]: [c.hidden_size],
      [`${p}.post_attention_layernorm.weight`]: [c.hidden_size],
      [`${p}.self_attn.q_proj.weight`]: [c.hidden_size, c.hidden_size],
      [`${p}.self_attn.k_proj.weight`]: [kv, c.hidden_size],
      [`${p}.self_attn.v_proj.weight`]: [kv, c.hidden_size],
      [`${p}.self_attn.o_proj.weight`]: [c.hidden_size, c.hidden_size],
      [`${p}.mlp.gate_proj.weight`]: [c.intermediate_size, c.hidden_size],
      [`${p}.mlp.up_proj.weight`]: [c.intermediate_size, c.hidden_size],
      [`${p}.mlp.down_proj.weight`]: [c.hidden_size, c.intermediate_size],
    });
    if (qkvBias) {
      Object.assign(shapes, {
        [`${p}.self_attn.q_proj.bias`]: [c.hidden_size],
        [`${p}.self_attn.k_proj.bias`]: [kv],
        [`${p}.self_attn.v_proj.bias`]: [kv],
      });
    }
  }
  return shapes;
}

export const GPT2_CONFIG = {
  architectures: ["GPT2LMHeadModel"],
  model_type: "gpt2",
  vocab_size: 40,
  n_positions: 32,
  n_embd: 16,
  n_layer: 2,
  n_head: 4,
  n_inner: null,
  layer_norm_epsilon: 1e-5,
  activation_function: "gelu_new",
};

/** GPT-2 names as OpenAI's checkpoint has them: no "transformer." prefix, causal-mask buffers. */
export function gpt2Shapes(c: typeof GPT2_CONFIG = GPT2_CONFIG): Record<string, number[]> {
  const d = c.n_embd;
  const shapes: Record<string, number[]> = {
    "wte.weight": [c.vocab_size, d],
    "wpe.weight": [c.n_positions, d],
    "ln_f.weight": [d],
    "ln_f.bias": [d],
  };
  for (let i = 0; i < c.n_layer; i++) {
    Object.assign(shapes, {
      [`h.${i}.ln_1.weight`]: [d],
      [`h.${i}.ln_1.bias`]: [d],
      [`h.${i}.attn.bias`]: [1, 1, c.n_positions, c.n_positions],
      [`h.${i}.attn.c_attn.weight`]: [d, 3 * d],
      [`h.${i}.attn.c_attn.bias`]: [3 * d],
      [`h.${i}.attn.c_proj.weight`]: [d, d],
      [`h.${i}.attn.c_proj.bias`]: [d],
      [`h.${i}.ln_2.weight`]: [d],
      [`h.${i}.ln_2.bias`]: [d],
      [`h.${i}.mlp.c_fc.weight`]: [d, 4 * d],
      [`h.${i}.mlp.c_fc.bias`]: [4 * d],
      [`h.${i}.mlp.c_proj.weight`]: [4 * d, d],
      [`h.${i}.mlp.c_proj.bias`]: [d],
    });
  }
  return shapes;
}

/** A random tiny Llama (LLAMA_CONFIG) with a word-level tokenizer over words, in a new temporary folder. */
export function tinyLlamaFolder(words: string[], seed: number, std: number): string {
  const dir = writeFolder(
    mkdtempSync(join(tmpdir(), "morelora-llama-")),
    LLAMA_CONFIG,
    randomTensors(llamaShapes(LLAMA_CONFIG), seed, std),
  );
  writeWordTokenizer(dir, words);
  return dir;
}

/** A word-level tokenizer.json (HF tokenizers' format) over the given words, with <unk>, <s>, </s>. */
export function writeWordTokenizer(dir: string, words: string[]): void {
  const vocab = Object.fromEntries(["<unk>", "<s>", "</s>", ...words].map((w, i) => [w, i]));
  writeFileSync(
    join(dir, "tokenizer.json"),
    JSON.stringify({
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: [specialToken(0, "<unk>"), specialToken(1, "<s>"), specialToken(2, "</s>")],
      normalizer: null,
      pre_tokenizer: { type: "Whitespace" },
      post_processor: null,
      decoder: { type: "WordPiece", prefix: "##", cleanup: true },
      model: { type: "WordLevel", vocab, unk_token: "<unk>" },
    }),
  );
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({
      bos_token: "<s>",
      eos_token: "</s>",
      unk_token: "<unk>",
      pad_token: "</s>",
      padding_side: "left",
      model_max_length: 128,
    }),
  );
}
