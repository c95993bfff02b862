import {
  type ActivationFn,
  activationByName,
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
import type { ConfigReader } from "./hf-config.js";
import { PretrainedModel } from "./pretrained.js";

/** BERT and RoBERTa encoders (post-LayerNorm, GELU), as HF's BertModel / RobertaModel. */
export interface BertConfig {
  flavor: "bert" | "roberta";
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  numLabels: number;
  /** transformers' ACT2FN name (hidden_act). */
  activation: string;
  /** Dropout in training (transformers' placements): after the embeddings and on each residual branch, on the attention probabilities, and before the classifier. */
  hiddenDropout: number;
  attentionDropout: number;
  classifierDropout: number;
}

export function bertConfigFrom(c: ConfigReader, flavor: BertConfig["flavor"]): BertConfig {
  c.only("position_embedding_type", ["absolute"], "absolute positions only");
  c.only("is_decoder", [false], "the encoder only");
  c.only("add_cross_attention", [false], "the encoder only");
  const hiddenDropout = c.probability("hidden_dropout_prob", 0.1);
  return {
    flavor,
    vocabSize: c.int("vocab_size"),
    hiddenSize: c.int("hidden_size"),
    numLayers: c.int("num_hidden_layers"),
    numHeads: c.int("num_attention_heads"),
    intermediateSize: c.int("intermediate_size"),
    maxPositions: c.int("max_position_embeddings"),
    typeVocabSize: c.int("type_vocab_size", 2),
    layerNormEps: c.number("layer_norm_eps", 1e-12),
    padTokenId: c.int("pad_token_id", flavor === "roberta" ? 1 : 0),
    numLabels: c.numLabels(),
    activation: c.activation("hidden_act", "gelu"),
    hiddenDropout,
    attentionDropout: c.probability("attention_probs_dropout_prob", 0.1),
    // null (the default) means hidden_dropout_prob, as Bert/RobertaForSequenceClassification read it.
    classifierDropout: c.has("classifier_dropout") ? c.probability("classifier_dropout", 0) : hiddenDropout,
  };
}

/** LayerNorm(dropout(dense(x)) + residual): BertSelfOutput and BertOutput. */
class AddNorm extends Module<{ dense: Layer; LayerNorm: Layer; dropout: Layer }> {
  constructor(inF: number, c: BertConfig, dtype: DType) {
    super();
    this.registerModule("dense", new Linear(inF, c.hiddenSize, { dtype }));
    this.registerModule("LayerNorm", new LayerNorm(c.hiddenSize, c.layerNormEps, { dtype }));
    this.registerModule("dropout", new Dropout(c.hiddenDropout));
  }

  forward(x: Tensor, residual: Tensor): Tensor {
    const branch = this.child("dropout").forward(this.child("dense").forward(x));
    return this.child("LayerNorm").forward(T.add(branch, residual));
  }
}

class SelfAttention extends Module<{ query: Layer; key: Layer; value: Layer; dropout: Dropout }> {
  constructor(
    private readonly c: BertConfig,
    dtype: DType,
  ) {
    super();
    for (const name of ["query", "key", "value"] as const)
      this.registerModule(name, new Linear(c.hiddenSize, c.hiddenSize, { dtype }));
    this.registerModule("dropout", new Dropout(c.attentionDropout));
  }

  forward(x: Tensor, mask: Tensor | null): Tensor {
    const [q, k, v] = (["query", "key", "value"] as const).map((name) => this.child(name).forward(x));
    const dropout = this.child("dropout").attentionDropout();
    return T.attention(q, k, v, { heads: this.c.numHeads, keyMask: mask, dropout });
  }
}

class Attention extends Module<{ self: SelfAttention; output: AddNorm }> {
  constructor(c: BertConfig, dtype: DType) {
    super();
    this.registerModule("self", new SelfAttention(c, dtype));
    this.registerModule("output", new AddNorm(c.hiddenSize, c, dtype));
  }

  forward(x: Tensor, mask: Tensor | null): Tensor {
    return this.child("output").forward(this.child("self").forward(x, mask), x);
  }
}

class Intermediate extends Module<{ dense: Layer }> {
  private readonly act: ActivationFn;

  constructor(c: BertConfig, dtype: DType) {
    super();
    this.act = activationByName(c.activation)!;
    this.registerModule("dense", new Linear(c.hiddenSize, c.intermediateSize, { dtype }));
  }

  forward(x: Tensor): Tensor {
    return this.act(this.child("dense").forward(x));
  }
}

class BertLayer extends Module<{ attention: Attention; intermediate: Layer; output: AddNorm }> {
  constructor(c: BertConfig, dtype: DType) {
    super();
    this.registerModule("attention", new Attention(c, dtype));
    this.registerModule("intermediate", new Intermediate(c, dtype));
    this.registerModule("output", new AddNorm(c.intermediateSize, c, dtype));
  }

  forward(x: Tensor, mask: Tensor | null): Tensor {
    const h = this.child("attention").forward(x, mask);
    return this.child("output").forward(this.child("intermediate").forward(h), h);
  }
}

class Embeddings extends Module<{
  word_embeddings: Layer;
  position_embeddings: Layer;
  token_type_embeddings: Layer;
  LayerNorm: Layer;
  dropout: Layer;
}> {
  constructor(
    private readonly c: BertConfig,
    dtype: DType,
  ) {
    super();
    this.registerModule("word_embeddings", new Embedding(c.vocabSize, c.hiddenSize, { dtype }));
    this.registerModule("position_embeddings", new Embedding(c.maxPositions, c.hiddenSize, { dtype }));
    this.registerModule("token_type_embeddings", new Embedding(c.typeVocabSize, c.hiddenSize, { dtype }));
    this.registerModule("LayerNorm", new LayerNorm(c.hiddenSize, c.layerNormEps, { dtype }));
    this.registerModule("dropout", new Dropout(c.hiddenDropout));
  }

  /** BERT counts positions from 0; RoBERTa from pad + 1 over real tokens only (create_position_ids_from_input_ids). */
  private positions(ids: Tensor): Tensor {
    const [batch, steps] = ids.shape;
    const out = new Int32Array(batch * steps);
    for (let b = 0; b < batch; b++) {
      let seen = 0;
      for (let t = 0; t < steps; t++) {
        const i = b * steps + t;
        if (this.c.flavor === "bert") out[i] = t;
        else out[i] = ids.data[i] === this.c.padTokenId ? this.c.padTokenId : this.c.padTokenId + ++seen;
      }
    }
    if (out.some((p) => p >= this.c.maxPositions))
      throw new Error(`the sequence is longer than the model's ${this.c.maxPositions} positions`);
    return T.tensor(out, [batch, steps]);
  }

  forward(ids: Tensor, tokenTypes: Tensor | null): Tensor {
    const types = tokenTypes ?? T.tensor(new Int32Array(ids.size), ids.shape);
    const words = this.child("word_embeddings").forward(ids);
    const positions = this.child("position_embeddings").forward(this.positions(ids));
    const sum = T.add(T.add(words, positions), this.child("token_type_embeddings").forward(types));
    return this.child("dropout").forward(this.child("LayerNorm").forward(sum));
  }
}

class Encoder extends Module<{ layer: LayerStack<BertLayer> }> {
  constructor(c: BertConfig, dtype: DType) {
    super();
    this.registerModule(
      "layer",
      new LayerStack(Array.from({ length: c.numLayers }, () => new BertLayer(c, dtype))),
    );
  }
}

class Pooler extends Module<{ dense: Layer }> {
  constructor(c: BertConfig, dtype: DType) {
    super();
    this.registerModule("dense", new Linear(c.hiddenSize, c.hiddenSize, { dtype }));
  }

  /** tanh(dense(hidden of the first token)). */
  forward(hidden: Tensor): Tensor {
    return T.tanh(this.child("dense").forward(T.squeeze(T.slice(hidden, 1, 0, 1), 1)));
  }
}

export interface EncoderInput {
  /** [B, T]: 1 for real tokens, 0 for padding. */
  attentionMask?: Tensor | null;
  tokenTypeIds?: Tensor | null;
}

/** RoBERTa's head (RobertaClassificationHead): dropout, dense, tanh, dropout, out_proj on the first token's hidden state. */
class RobertaHead extends Module<{ dense: Layer; dropout: Layer; out_proj: Layer }> {
  constructor(c: BertConfig, dtype: DType) {
    super();
    this.registerModule("dense", new Linear(c.hiddenSize, c.hiddenSize, { dtype }));
    this.registerModule("dropout", new Dropout(c.classifierDropout));
    this.registerModule("out_proj", new Linear(c.hiddenSize, c.numLabels, { dtype }));
  }

  forward(hidden: Tensor): Tensor {
    const drop = (x: Tensor): Tensor => this.child("dropout").forward(x);
    const first = T.squeeze(T.slice(hidden, 1, 0, 1), 1);
    return this.child("out_proj").forward(drop(T.tanh(this.child("dense").forward(drop(first)))));
  }
}

/**
 * A checkpoint name as the model names it: TF-era LayerNorm gamma/beta renamed, buffers and other
 * tasks' heads skipped; the body bare (encoder) or under "bert." / "roberta." (classification).
 */
function bertCheckpointName(name: string, c: BertConfig, task: "encoder" | "classification"): string | null {
  const renamed = name
    .replace(/LayerNorm\.gamma$/, "LayerNorm.weight")
    .replace(/LayerNorm\.beta$/, "LayerNorm.bias");
  if (/position_ids$/.test(renamed) || /^(cls|lm_head)\./.test(renamed)) return null;
  const bare = renamed.startsWith(`${c.flavor}.`) ? renamed.slice(c.flavor.length + 1) : renamed;
  if (bare.startsWith("classifier.")) return task === "classification" ? bare : null;
  if (task === "encoder") return bare;
  if (bare.startsWith("pooler.") && c.flavor === "roberta") return null;
  return `${c.flavor}.${bare}`;
}

/** HF's BertModel / RobertaModel: embeddings, encoder.layer.N and a pooler; returns the hidden states. */
export class BertModel extends PretrainedModel<{ embeddings: Embeddings; encoder: Encoder; pooler: Pooler }> {
  readonly architecture: string;
  readonly peftTaskType = "FEATURE_EXTRACTION";

  constructor(
    readonly config: BertConfig,
    dtype: DType = "float32",
    { pooler = true } = {},
  ) {
    super();
    this.architecture = `${config.flavor === "roberta" ? "Roberta" : "Bert"}Model`;
    this.registerModule("embeddings", new Embeddings(config, dtype));
    this.registerModule("encoder", new Encoder(config, dtype));
    if (pooler) this.registerModule("pooler", new Pooler(config, dtype));
  }

  override checkpointName(name: string): string | null {
    return bertCheckpointName(name, this.config, "encoder");
  }

  override mayBeFresh(name: string): boolean {
    return name.startsWith("pooler.");
  }

  /** Hidden states [B, T, hidden]. */
  forward(ids: Tensor, { attentionMask = null, tokenTypeIds = null }: EncoderInput = {}): Tensor {
    const x = this.child("embeddings").forward(ids, tokenTypeIds);
    return this.child("encoder")
      .child("layer")
      .run(x, (layer, h) => layer.forward(h, attentionMask));
  }
}

/**
 * HF's BertForSequenceClassification / RobertaForSequenceClassification: the encoder under
 * "bert." / "roberta.", then "classifier" on BERT's pooled first token or on RoBERTa's hidden
 * states (RobertaClassificationHead); logits [B, labels].
 */
export class BertForSequenceClassification extends PretrainedModel<
  Record<"bert" | "roberta", BertModel> & { dropout: Layer; classifier: Layer }
> {
  readonly architecture: string;
  readonly peftTaskType = "SEQ_CLS";

  constructor(
    readonly config: BertConfig,
    dtype: DType = "float32",
  ) {
    super();
    const roberta = config.flavor === "roberta";
    this.architecture = `${roberta ? "Roberta" : "Bert"}ForSequenceClassification`;
    this.registerModule(config.flavor, new BertModel(config, dtype, { pooler: !roberta }));
    // BERT drops the pooled output before the classifier; RoBERTa's head holds its own dropout.
    if (!roberta) this.registerModule("dropout", new Dropout(config.classifierDropout));
    this.registerModule(
      "classifier",
      roberta ? new RobertaHead(config, dtype) : new Linear(config.hiddenSize, config.numLabels, { dtype }),
    );
  }

  get numLabels(): number {
    return this.config.numLabels;
  }

  override checkpointName(name: string): string | null {
    return bertCheckpointName(name, this.config, "classification");
  }

  override mayBeFresh(name: string): boolean {
    return name.startsWith("classifier.") || name.includes("pooler.");
  }

  forward(ids: Tensor, input: EncoderInput = {}): Tensor {
    const body = this.child(this.config.flavor);
    const hidden = body.forward(ids, input);
    const features =
      this.config.flavor === "roberta"
        ? hidden
        : this.child("dropout").forward(body.child("pooler").forward(hidden));
    return this.child("classifier").forward(features);
  }
}
