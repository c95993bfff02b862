import {
  type ActivationFn,
  activationByName,
  Conv1D,
  Dropout,
  Embedding,
  type Layer,
  LayerNorm,
  LayerStack,
  Linear,
  Module,
} from "../nn/index.js";
import * as T from "../tensor/index.js";
import type { DType, Tensor } from "../tensor/index.js";
import { type DecoderInput, KvCache, positionIds, PretrainedCausalLM } from "./causal-lm.js";
import type { ConfigReader } from "./hf-config.js";

export interface Gpt2Config {
  vocabSize: number;
  maxPositions: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  innerSize: number;
  layerNormEps: number;
  /** transformers' ACT2FN name (activation_function). */
  activation: string;
  /** Scores divided by √head_dim (scale_attn_weights) and by layer index + 1 (scale_attn_by_inverse_layer_idx). */
  scaleAttnWeights: boolean;
  scaleAttnByInverseLayerIdx: boolean;
  tieWordEmbeddings: boolean;
  /** Dropout in training: on the embeddings' sum (embd_pdrop), the attention probabilities (attn_pdrop), each residual branch (resid_pdrop). */
  embdPdrop: number;
  attnPdrop: number;
  residPdrop: number;
}

export function gpt2ConfigFrom(c: ConfigReader): Gpt2Config {
  const hiddenSize = c.int("n_embd");
  c.only("add_cross_attention", [false], "GPT-2 here is decoder-only");
  return {
    vocabSize: c.int("vocab_size"),
    maxPositions: c.int("n_positions"),
    hiddenSize,
    numLayers: c.int("n_layer"),
    numHeads: c.int("n_head"),
    innerSize: c.has("n_inner") ? c.int("n_inner") : 4 * hiddenSize,
    layerNormEps: c.number("layer_norm_epsilon", 1e-5),
    activation: c.activation("activation_function", "gelu_new"),
    scaleAttnWeights: c.bool("scale_attn_weights", true),
    scaleAttnByInverseLayerIdx: c.bool("scale_attn_by_inverse_layer_idx", false),
    // GPT2Config leaves PretrainedConfig's default: tied.
    tieWordEmbeddings: c.bool("tie_word_embeddings", true),
    // GPT2Config's defaults; transformers applies them whenever the model trains.
    embdPdrop: c.probability("embd_pdrop", 0.1),
    attnPdrop: c.probability("attn_pdrop", 0.1),
    residPdrop: c.probability("resid_pdrop", 0.1),
  };
}

class Gpt2Attention extends Module<{
  c_attn: Layer;
  c_proj: Layer;
  attn_dropout: Dropout;
  resid_dropout: Layer;
}> {
  private readonly scale: number;

  constructor(
    private readonly c: Gpt2Config,
    layerIdx: number,
    dtype: DType,
  ) {
    super();
    const headDim = c.hiddenSize / c.numHeads;
    this.scale =
      (c.scaleAttnWeights ? 1 / Math.sqrt(headDim) : 1) / (c.scaleAttnByInverseLayerIdx ? layerIdx + 1 : 1);
    this.registerModule("c_attn", new Conv1D(c.hiddenSize, 3 * c.hiddenSize, { dtype }));
    this.registerModule("c_proj", new Conv1D(c.hiddenSize, c.hiddenSize, { dtype }));
    this.registerModule("attn_dropout", new Dropout(c.attnPdrop));
    this.registerModule("resid_dropout", new Dropout(c.residPdrop));
  }

  forward(x: Tensor, mask: Tensor | null, cache: KvCache | null, index: number): Tensor {
    // q, k and v stay [B, T, hidden]: the fused attention reads heads from that layout.
    const [q, k0, v0] = T.split(this.child("c_attn").forward(x), this.c.hiddenSize, -1);
    let [k, v] = [k0, v0];
    if (cache) ({ k, v } = cache.update(index, k, v));
    const att = T.attention(q, k, v, {
      heads: this.c.numHeads,
      causal: true,
      keyMask: mask,
      scale: this.scale,
      dropout: this.child("attn_dropout").attentionDropout(),
    });
    return this.child("resid_dropout").forward(this.child("c_proj").forward(att));
  }
}

class Gpt2Mlp extends Module<{ c_fc: Layer; c_proj: Layer; dropout: Layer }> {
  private readonly act: ActivationFn;

  constructor(c: Gpt2Config, dtype: DType) {
    super();
    this.act = activationByName(c.activation)!;
    this.registerModule("c_fc", new Conv1D(c.hiddenSize, c.innerSize, { dtype }));
    this.registerModule("c_proj", new Conv1D(c.innerSize, c.hiddenSize, { dtype }));
    this.registerModule("dropout", new Dropout(c.residPdrop));
  }

  forward(x: Tensor): Tensor {
    return this.child("dropout").forward(
      this.child("c_proj").forward(this.act(this.child("c_fc").forward(x))),
    );
  }
}

class Gpt2Block extends Module<{ ln_1: Layer; attn: Gpt2Attention; ln_2: Layer; mlp: Layer }> {
  constructor(c: Gpt2Config, layerIdx: number, dtype: DType) {
    super();
    this.registerModule("ln_1", new LayerNorm(c.hiddenSize, c.layerNormEps, { dtype }));
    this.registerModule("attn", new Gpt2Attention(c, layerIdx, dtype));
    this.registerModule("ln_2", new LayerNorm(c.hiddenSize, c.layerNormEps, { dtype }));
    this.registerModule("mlp", new Gpt2Mlp(c, dtype));
  }

  forward(x: Tensor, mask: Tensor | null, cache: KvCache | null, index: number): Tensor {
    const h = T.add(x, this.child("attn").forward(this.child("ln_1").forward(x), mask, cache, index));
    return T.add(h, this.child("mlp").forward(this.child("ln_2").forward(h)));
  }
}

class Gpt2Model extends Module<{
  wte: Embedding;
  wpe: Layer;
  drop: Layer;
  h: LayerStack<Gpt2Block>;
  ln_f: Layer;
}> {
  constructor(c: Gpt2Config, dtype: DType) {
    super();
    this.registerModule("wte", new Embedding(c.vocabSize, c.hiddenSize, { dtype }));
    this.registerModule("wpe", new Embedding(c.maxPositions, c.hiddenSize, { dtype }));
    this.registerModule("drop", new Dropout(c.embdPdrop));
    this.registerModule(
      "h",
      new LayerStack(Array.from({ length: c.numLayers }, (_, i) => new Gpt2Block(c, i, dtype))),
    );
    this.registerModule("ln_f", new LayerNorm(c.hiddenSize, c.layerNormEps, { dtype }));
  }
}

/** HF's GPT2LMHeadModel: Conv1D weights [in, out], fused c_attn, learned positions, lm_head tied unless the config says not. */
export class Gpt2LMHeadModel extends PretrainedCausalLM<{ transformer: Gpt2Model; lm_head: Layer }> {
  readonly architecture = "GPT2LMHeadModel";

  constructor(
    readonly config: Gpt2Config,
    dtype: DType = "float32",
  ) {
    super();
    this.registerModule("transformer", new Gpt2Model(config, dtype));
    const head = this.registerModule(
      "lm_head",
      new Linear(config.hiddenSize, config.vocabSize, { bias: false, dtype }),
    );
    if (config.tieWordEmbeddings) head.setParam("weight", this.child("transformer").child("wte").weight);
  }

  override checkpointName(name: string): string | null {
    // The causal-mask buffers old checkpoints carry are rebuilt here; OpenAI's files lack the prefix.
    if (/\.attn\.(masked_)?bias$/.test(name)) return null;
    return name.startsWith("transformer.") || name.startsWith("lm_head.") ? name : `transformer.${name}`;
  }

  /** The last hidden states [B, T, hidden], after ln_f. */
  hiddenStates(
    ids: Tensor,
    { attentionMask = null, positionIds: given = null, cache = null }: DecoderInput = {},
  ): Tensor {
    const [batch, steps] = ids.shape;
    const past = cache?.length ?? 0;
    const positions = positionIds(batch, steps, past, given);
    const needed = positions.reduce((most, p) => Math.max(most, p + 1), past + steps);
    if (needed > this.config.maxPositions) {
      throw new Error(`GPT-2 has ${this.config.maxPositions} positions; the sequence needs ${needed}`);
    }
    const transformer = this.child("transformer");
    const embedded = T.add(
      transformer.child("wte").forward(ids),
      transformer.child("wpe").forward(T.tensor(positions, [batch, steps])),
    );
    let x = transformer.child("drop").forward(embedded);
    x = transformer.child("h").run(x, (block, h, i) => block.forward(h, attentionMask, cache, i));
    return transformer.child("ln_f").forward(x);
  }
}
