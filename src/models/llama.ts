import {
  Dropout,
  Embedding,
  type GatedActivationFn,
  gatedActivationByName,
  type Layer,
  LayerStack,
  Linear,
  Module,
  RMSNorm,
} from "../nn/index.js";
import * as T from "../tensor/index.js";
import type { DType, Tensor } from "../tensor/index.js";
import { type DecoderInput, KvCache, positionIds, PretrainedCausalLM } from "./causal-lm.js";
import type { ConfigReader } from "./hf-config.js";
import { PretrainedModel } from "./pretrained.js";
import { inverseFrequencies, type RopeConfig, ropeConfigFrom, ropeTables } from "./rope.js";

/** LlamaForCausalLM and its relatives: Qwen2 (q/k/v biases, sliding window on some layers) and Mistral (sliding window). */
export interface LlamaConfig {
  modelType: "llama" | "qwen2" | "mistral";
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  rope: RopeConfig;
  /** Each layer's sliding window (keys less than this many positions before the query), 0 for full attention. */
  windows: number[];
  /** Biases on q, k, v (Qwen2; Llama's attention_bias also puts one on o). */
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  /** Dropout on the attention probabilities in training (attention_dropout; checkpoints ship 0). */
  attentionDropout: number;
  /** transformers' ACT2FN name of the MLP's gate activation (hidden_act). */
  hiddenAct: string;
  tieWordEmbeddings: boolean;
}

export function llamaConfigFrom(c: ConfigReader, modelType: LlamaConfig["modelType"]): LlamaConfig {
  const hiddenSize = c.int("hidden_size");
  const numHeads = c.int("num_attention_heads");
  const headDim = c.has("head_dim") ? c.int("head_dim") : hiddenSize / numHeads;
  if (!Number.isInteger(headDim))
    throw new Error(
      `${c.file}: "hidden_size" ${hiddenSize} is not divisible by "num_attention_heads" ${numHeads}`,
    );
  const attentionBias = c.bool("attention_bias", false);
  return {
    modelType,
    vocabSize: c.int("vocab_size"),
    hiddenSize,
    intermediateSize: c.int("intermediate_size"),
    numLayers: c.int("num_hidden_layers"),
    numHeads,
    numKvHeads: c.int("num_key_value_heads", numHeads),
    headDim,
    rmsNormEps: c.number("rms_norm_eps", 1e-6),
    rope: ropeConfigFrom(c, headDim),
    windows: attentionWindows(c, modelType),
    attentionDropout: c.probability("attention_dropout", 0),
    qkvBias: modelType === "qwen2" || attentionBias,
    oBias: modelType !== "qwen2" && attentionBias,
    mlpBias: c.bool("mlp_bias", false),
    hiddenAct: c.activation("hidden_act", "silu"),
    // LlamaConfig, Qwen2Config and MistralConfig all default to an untied head.
    tieWordEmbeddings: c.bool("tie_word_embeddings", false),
  };
}

/**
 * The sliding windows of each layer as transformers reads them: Mistral's `sliding_window` (default
 * 4096, null for none) applies to every layer; Qwen2's only with `use_sliding_window`, on the layers
 * that `layer_types` marks "sliding_attention" (by default those from `max_window_layers` on).
 */
function attentionWindows(c: ConfigReader, modelType: LlamaConfig["modelType"]): number[] {
  const layers = c.int("num_hidden_layers");
  if (modelType === "llama") return new Array<number>(layers).fill(0);
  const raw = c.raw("sliding_window");
  const window = raw === undefined ? 4096 : raw === null ? 0 : c.int("sliding_window");
  if (modelType === "mistral") return new Array<number>(layers).fill(window);
  if (!c.bool("use_sliding_window", false)) return new Array<number>(layers).fill(0);
  const maxWindowLayers = c.int("max_window_layers", 28);
  const types =
    c.raw("layer_types") ??
    Array.from({ length: layers }, (_, i) => (i >= maxWindowLayers ? "sliding_attention" : "full_attention"));
  if (
    !Array.isArray(types) ||
    types.length !== layers ||
    types.some((t) => t !== "sliding_attention" && t !== "full_attention")
  )
    throw new Error(
      `${c.file}: "layer_types" must list "full_attention" or "sliding_attention" for each of the ${layers} layers, got ${JSON.stringify(types)}`,
    );
  return types.map((t) => (t === "sliding_attention" ? window : 0));
}

interface LayerInput {
  cos: Tensor;
  sin: Tensor;
  mask: Tensor | null;
  cache: KvCache | null;
  index: number;
}

class LlamaAttention extends Module<{
  q_proj: Layer;
  k_proj: Layer;
  v_proj: Layer;
  o_proj: Layer;
  attention_dropout: Dropout;
}> {
  constructor(
    private readonly c: LlamaConfig,
    dtype: DType,
  ) {
    super();
    const { hiddenSize: d, numHeads: h, numKvHeads: kv, headDim: hd } = c;
    this.registerModule("q_proj", new Linear(d, h * hd, { bias: c.qkvBias, dtype }));
    this.registerModule("k_proj", new Linear(d, kv * hd, { bias: c.qkvBias, dtype }));
    this.registerModule("v_proj", new Linear(d, kv * hd, { bias: c.qkvBias, dtype }));
    this.registerModule("o_proj", new Linear(h * hd, d, { bias: c.oBias, dtype }));
    this.registerModule("attention_dropout", new Dropout(c.attentionDropout));
  }

  /** The q, k, v projections stay in [B, T, heads·d]: RoPE and the fused attention read that layout. */
  forward(x: Tensor, { cos, sin, mask, cache, index }: LayerInput): Tensor {
    const { numHeads: h, numKvHeads: kv, headDim: hd } = this.c;
    const [b, t] = x.shape;
    const rotated = (name: "q_proj" | "k_proj", heads: number): Tensor =>
      T.reshape(T.rope(T.reshape(this.child(name).forward(x), [b, t, heads, hd]), cos, sin), [
        b,
        t,
        heads * hd,
      ]);
    const q = rotated("q_proj", h);
    let k = rotated("k_proj", kv);
    let v = this.child("v_proj").forward(x);
    if (cache) ({ k, v } = cache.update(index, k, v));
    const att = T.attention(q, k, v, {
      heads: h,
      kvHeads: kv,
      causal: true,
      window: this.c.windows[index],
      keyMask: mask,
      dropout: this.child("attention_dropout").attentionDropout(),
    });
    return this.child("o_proj").forward(att);
  }
}

class LlamaMlp extends Module<{ gate_proj: Layer; up_proj: Layer; down_proj: Layer }> {
  private readonly gated: GatedActivationFn;

  constructor(c: LlamaConfig, dtype: DType) {
    super();
    this.gated = gatedActivationByName(c.hiddenAct)!;
    const opts = { bias: c.mlpBias, dtype };
    this.registerModule("gate_proj", new Linear(c.hiddenSize, c.intermediateSize, opts));
    this.registerModule("up_proj", new Linear(c.hiddenSize, c.intermediateSize, opts));
    this.registerModule("down_proj", new Linear(c.intermediateSize, c.hiddenSize, opts));
  }

  forward(x: Tensor): Tensor {
    const gate = this.child("gate_proj").forward(x);
    return this.child("down_proj").forward(this.gated(gate, this.child("up_proj").forward(x)));
  }
}

class LlamaDecoderLayer extends Module<{
  self_attn: LlamaAttention;
  mlp: Layer;
  input_layernorm: Layer;
  post_attention_layernorm: Layer;
}> {
  constructor(c: LlamaConfig, dtype: DType) {
    super();
    this.registerModule("self_attn", new LlamaAttention(c, dtype));
    this.registerModule("mlp", new LlamaMlp(c, dtype));
    this.registerModule("input_layernorm", new RMSNorm(c.hiddenSize, c.rmsNormEps, { dtype }));
    this.registerModule("post_attention_layernorm", new RMSNorm(c.hiddenSize, c.rmsNormEps, { dtype }));
  }

  forward(x: Tensor, input: LayerInput): Tensor {
    const h = T.add(x, this.child("self_attn").forward(this.child("input_layernorm").forward(x), input));
    return T.add(h, this.child("mlp").forward(this.child("post_attention_layernorm").forward(h)));
  }
}

/** HF's LlamaModel: embeddings, decoder layers, final norm; returns the last hidden states. */
class LlamaModel extends Module<{
  embed_tokens: Embedding;
  layers: LayerStack<LlamaDecoderLayer>;
  norm: Layer;
}> {
  private readonly invFreq: Float64Array;

  constructor(c: LlamaConfig, dtype: DType) {
    super();
    this.registerModule("embed_tokens", new Embedding(c.vocabSize, c.hiddenSize, { dtype }));
    this.registerModule(
      "layers",
      new LayerStack(Array.from({ length: c.numLayers }, () => new LlamaDecoderLayer(c, dtype))),
    );
    this.registerModule("norm", new RMSNorm(c.hiddenSize, c.rmsNormEps, { dtype }));
    this.invFreq = inverseFrequencies(c.rope);
  }

  forward(
    ids: Tensor,
    { attentionMask = null, positionIds: given = null, cache = null }: DecoderInput = {},
  ): Tensor {
    const [batch, steps] = ids.shape;
    const past = cache?.length ?? 0;
    let x = this.child("embed_tokens").forward(ids);
    const { cos, sin } = ropeTables(
      this.invFreq,
      positionIds(batch, steps, past, given),
      batch,
      steps,
      x.dtype,
    );
    x = this.child("layers").run(x, (layer, h, index) =>
      layer.forward(h, { cos, sin, mask: attentionMask, cache, index }),
    );
    return this.child("norm").forward(x);
  }
}

const ARCHITECTURE_NAMES = { llama: "Llama", qwen2: "Qwen2", mistral: "Mistral" } as const;

/** HF's LlamaForCausalLM (model_type llama, qwen2, mistral), module names exactly as HF's. */
export class LlamaForCausalLM extends PretrainedCausalLM<{ model: LlamaModel; lm_head: Layer }> {
  readonly architecture: string;

  constructor(
    readonly config: LlamaConfig,
    dtype: DType = "float32",
  ) {
    super();
    this.registerModule("model", new LlamaModel(config, dtype));
    const head = this.registerModule(
      "lm_head",
      new Linear(config.hiddenSize, config.vocabSize, { bias: false, dtype }),
    );
    if (config.tieWordEmbeddings) head.setParam("weight", this.child("model").child("embed_tokens").weight);
    this.architecture = `${ARCHITECTURE_NAMES[config.modelType]}ForCausalLM`;
  }

  override checkpointName(name: string): string | null {
    // Old checkpoints store RoPE's inverse frequencies; they are recomputed from the config.
    if (name.endsWith("rotary_emb.inv_freq")) return null;
    return name;
  }

  hiddenStates(ids: Tensor, input: DecoderInput = {}): Tensor {
    return this.child("model").forward(ids, input);
  }
}

/**
 * HF's LlamaForSequenceClassification: the decoder, then "score" (no bias) on the hidden state of
 * each sequence's last real token: the last position the attention mask keeps, else the one
 * before the first pad_token_id, else the last position.
 */
export class LlamaForSequenceClassification extends PretrainedModel<{ model: LlamaModel; score: Layer }> {
  readonly architecture: string;
  readonly peftTaskType = "SEQ_CLS";

  constructor(
    readonly config: LlamaConfig,
    readonly numLabels: number,
    private readonly padTokenId: number | null,
    dtype: DType = "float32",
  ) {
    super();
    this.registerModule("model", new LlamaModel(config, dtype));
    this.registerModule("score", new Linear(config.hiddenSize, numLabels, { bias: false, dtype }));
    this.architecture = `${ARCHITECTURE_NAMES[config.modelType]}ForSequenceClassification`;
  }

  override checkpointName(name: string): string | null {
    // A causal-LM checkpoint's head has no use here.
    if (name.endsWith("rotary_emb.inv_freq") || name === "lm_head.weight") return null;
    return name;
  }

  override mayBeFresh(name: string): boolean {
    return name.startsWith("score.");
  }

  private lastTokens(ids: Tensor, mask: Tensor | null): Int32Array {
    const [batch, steps] = ids.shape;
    const out = new Int32Array(batch);
    for (let b = 0; b < batch; b++) {
      let last = steps - 1;
      if (mask) while (last > 0 && mask.data[b * steps + last] === 0) last--;
      else if (this.padTokenId !== null) {
        const firstPad = ids.data.subarray(b * steps, (b + 1) * steps).indexOf(this.padTokenId);
        if (firstPad > 0) last = firstPad - 1;
      }
      out[b] = b * steps + last;
    }
    return out;
  }

  /** Class logits [B, labels]. */
  forward(
    ids: Tensor,
    { attentionMask = null, positionIds = null }: Omit<DecoderInput, "cache"> = {},
  ): Tensor {
    const hidden = this.child("model").forward(ids, { attentionMask, positionIds });
    const [b, t, d] = hidden.shape;
    const last = T.indexSelect(T.reshape(hidden, [b * t, d]), 0, this.lastTokens(ids, attentionMask));
    return this.child("score").forward(last);
  }
}
