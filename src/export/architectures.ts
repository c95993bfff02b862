import { type GgufTensor, type GgufValue, gguf } from "../io/gguf.js";
import { ConfigReader, gpt2ConfigFrom, type LlamaConfig, llamaConfigFrom } from "../models/index.js";
import { inverseFrequencies } from "../models/rope.js";

/** Where an HF module's tensors go in a GGUF file and how their rows are laid out there. */
export interface GgufModule {
  /** The GGUF tensor name without ".weight" / ".bias", e.g. "blk.0.attn_q". */
  name: string;
  /** Conv1D weights are [in, out] in HF files and [out, in] in GGUF. */
  transposed: boolean;
  /** Heads whose rows get llama.cpp's RoPE permutation (Llama's q and k), else null. */
  ropeHeads: number | null;
}

/**
 * One HF architecture as llama.cpp's converter writes it (docs/export.md): the GGUF
 * architecture name, its hyperparameters, where each module goes, and which checkpoint
 * tensors have no place in the file.
 */
export interface GgufArchitecture {
  arch: string;
  hparams: Map<string, GgufValue>;
  /** Tensors the converter makes rather than copies (llama.cpp's generate_extra_tensors). */
  extraTensors: GgufTensor[];
  vocabSize: number;
  /** The GGUF place of an HF module path, or null if llama.cpp has none for it. */
  module(path: string): GgufModule | null;
  /** The checkpoint's name for a tensor (GPT-2's files may lack the "transformer." prefix), or null to drop it. */
  checkpointName(name: string): string | null;
}

const LLAMA_MODULES: Record<string, string> = {
  "self_attn.q_proj": "attn_q",
  "self_attn.k_proj": "attn_k",
  "self_attn.v_proj": "attn_v",
  "self_attn.o_proj": "attn_output",
  "mlp.gate_proj": "ffn_gate",
  "mlp.up_proj": "ffn_up",
  "mlp.down_proj": "ffn_down",
  input_layernorm: "attn_norm",
  post_attention_layernorm: "ffn_norm",
};

/** Llama and Mistral (GGUF "llama", q/k rows permuted) and Qwen2 ("qwen2", NeoX RoPE, no permutation). */
function llamaFamily(c: ConfigReader, modelType: "llama" | "qwen2" | "mistral"): GgufArchitecture {
  const cfg = llamaConfigFrom(c, modelType);
  const arch = modelType === "qwen2" ? "qwen2" : "llama";
  if (cfg.rope.scaling?.type === "llama3" && arch !== "llama")
    throw new Error(`${c.file}: "rope_scaling" llama3: llama.cpp takes it for Llama models only`);
  const permute = arch === "llama";
  const k = (key: string): string => `${arch}.${key}`;
  const hparams = new Map<string, GgufValue>([
    [k("vocab_size"), gguf.u32(cfg.vocabSize)],
    [k("context_length"), gguf.u32(c.int("max_position_embeddings", 2048))],
    [k("embedding_length"), gguf.u32(cfg.hiddenSize)],
    [k("block_count"), gguf.u32(cfg.numLayers)],
    [k("feed_forward_length"), gguf.u32(cfg.intermediateSize)],
    [k("attention.head_count"), gguf.u32(cfg.numHeads)],
    [k("attention.head_count_kv"), gguf.u32(cfg.numKvHeads)],
    [k("attention.key_length"), gguf.u32(cfg.headDim)],
    [k("attention.value_length"), gguf.u32(cfg.headDim)],
    [k("attention.layer_norm_rms_epsilon"), gguf.f32(cfg.rmsNormEps)],
    [k("rope.dimension_count"), gguf.u32(cfg.headDim)],
    [k("rope.freq_base"), gguf.f32(cfg.rope.theta)],
    ...linearRopeScaling(cfg, k),
  ]);
  return {
    arch,
    hparams,
    extraTensors: llama3RopeFactors(cfg),
    vocabSize: cfg.vocabSize,
    module(path) {
      if (path === "model.embed_tokens") return { name: "token_embd", transposed: false, ropeHeads: null };
      if (path === "model.norm") return { name: "output_norm", transposed: false, ropeHeads: null };
      if (path === "lm_head") return { name: "output", transposed: false, ropeHeads: null };
      const m = /^model\.layers\.(\d+)\.(.+)$/.exec(path);
      const name = m && LLAMA_MODULES[m[2]];
      if (!m || !name) return null;
      const ropeHeads = !permute
        ? null
        : name === "attn_q"
          ? cfg.numHeads
          : name === "attn_k"
            ? cfg.numKvHeads
            : null;
      return { name: `blk.${m[1]}.${name}`, transposed: false, ropeHeads };
    },
    checkpointName(name) {
      if (name.endsWith("rotary_emb.inv_freq")) return null;
      if (cfg.tieWordEmbeddings && name === "lm_head.weight") return null;
      return name;
    },
  };
}

/** Linear RoPE scaling as llama.cpp reads it: positions divided by the factor. */
function linearRopeScaling(cfg: LlamaConfig, k: (key: string) => string): [string, GgufValue][] {
  const scaling = cfg.rope.scaling;
  if (scaling?.type !== "linear") return [];
  return [
    [k("rope.scaling.type"), gguf.str("linear")],
    [k("rope.scaling.factor"), gguf.f32(scaling.factor)],
  ];
}

/**
 * Llama 3's RoPE scaling as llama.cpp's converter writes it: a rope_freqs tensor of one factor per
 * frequency, by which llama.cpp divides the plain frequency (the plain one over the scaled one).
 */
function llama3RopeFactors(cfg: LlamaConfig): GgufTensor[] {
  if (cfg.rope.scaling?.type !== "llama3") return [];
  const plain = inverseFrequencies({ ...cfg.rope, scaling: null });
  const scaled = inverseFrequencies(cfg.rope);
  const factors = Float32Array.from(plain, (f, i) => f / scaled[i]);
  return [{ name: "rope_freqs.weight", shape: [factors.length], type: "F32", values: () => factors }];
}

const GPT2_MODULES: Record<string, [string, boolean]> = {
  ln_1: ["attn_norm", false],
  "attn.c_attn": ["attn_qkv", true],
  "attn.c_proj": ["attn_output", true],
  ln_2: ["ffn_norm", false],
  "mlp.c_fc": ["ffn_up", true],
  "mlp.c_proj": ["ffn_down", true],
};

/** GPT-2: learned positions, fused qkv, Conv1D weights transposed; the head is tied to wte. */
function gpt2(c: ConfigReader): GgufArchitecture {
  const cfg = gpt2ConfigFrom(c);
  if (cfg.activation !== "gelu_new")
    throw new Error(
      `${c.file}: "activation_function" ${cfg.activation}: llama.cpp's GPT-2 uses gelu_new only`,
    );
  const hparams = new Map<string, GgufValue>([
    ["gpt2.vocab_size", gguf.u32(cfg.vocabSize)],
    ["gpt2.context_length", gguf.u32(cfg.maxPositions)],
    ["gpt2.embedding_length", gguf.u32(cfg.hiddenSize)],
    ["gpt2.feed_forward_length", gguf.u32(cfg.innerSize)],
    ["gpt2.block_count", gguf.u32(cfg.numLayers)],
    ["gpt2.attention.head_count", gguf.u32(cfg.numHeads)],
    ["gpt2.attention.layer_norm_epsilon", gguf.f32(cfg.layerNormEps)],
  ]);
  const top: Record<string, string> = {
    "transformer.wte": "token_embd",
    "transformer.wpe": "position_embd",
    "transformer.ln_f": "output_norm",
  };
  return {
    arch: "gpt2",
    hparams,
    extraTensors: [],
    vocabSize: cfg.vocabSize,
    module(path) {
      if (top[path]) return { name: top[path], transposed: false, ropeHeads: null };
      const m = /^transformer\.h\.(\d+)\.(.+)$/.exec(path);
      const place = m && GPT2_MODULES[m[2]];
      if (!m || !place) return null;
      return { name: `blk.${m[1]}.${place[0]}`, transposed: place[1], ropeHeads: null };
    },
    checkpointName(name) {
      if (/\.attn\.(masked_)?bias$/.test(name) || name === "lm_head.weight") return null;
      return name.startsWith("transformer.") ? name : `transformer.${name}`;
    },
  };
}

const ARCHITECTURES: Record<string, (c: ConfigReader) => GgufArchitecture> = {
  LlamaForCausalLM: (c) => llamaFamily(c, "llama"),
  MistralForCausalLM: (c) => llamaFamily(c, "mistral"),
  Qwen2ForCausalLM: (c) => llamaFamily(c, "qwen2"),
  GPT2LMHeadModel: gpt2,
};

/** The GGUF mapping of a config.json's architecture; others are an error naming the supported ones. */
export function ggufArchitecture(json: Record<string, unknown>, file: string): GgufArchitecture {
  const archs = json.architectures;
  const name = Array.isArray(archs) && typeof archs[0] === "string" ? archs[0] : String(archs);
  const build = ARCHITECTURES[name];
  if (!build)
    throw new Error(
      `${file}: "architectures" ${name} cannot be exported to GGUF (supported: ${Object.keys(ARCHITECTURES).join(", ")})`,
    );
  return build(new ConfigReader(json, file));
}
