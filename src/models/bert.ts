import {
  type ActivationFn,
  activationByName,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  LayerStack,
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
}

export function bertConfigFrom(c: ConfigReader, flavor: BertConfig["flavor"]): BertConfig {
  c.only("position_embedding_type", ["absolute"], "absolute positions only");
  c.only("is_decoder", [false], "the encoder only");
  c.only("add_cross_attention", [false], "the encoder only");
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
  };
}

type Forward = Module & { forward(x: Tensor): Tensor };
const run = (m: Module, x: Tensor): Tensor => (m as Forward).forward(x);

/** dense then LayerNorm(dense(x) + residual): BertSelfOutput and BertOutput. */
class AddNorm extends Module {
  constructor(inF: number, c: BertConfig, dtype: DType) {
    super();
    this.registerModule("dense", new Linear(inF, c.hiddenSize, { dtype }));
    this.registerModule("LayerNorm", new LayerNorm(c.hiddenSize, c.layerNormEps, { dtype }));
  }

  forward(x: Tensor, residual: Tensor): Tensor {
    return run(this.child("LayerNorm"), T.add(run(this.child("dense"), x), residual));
  }
}

class SelfAttention extends Module {
  constructor(
    private readonly c: BertConfig,
    dtype: DType,
  ) {
    super();
    for (const name of ["query", "key", "value"])
      this.registerModule(name, new Linear(c.hiddenSize, c.hiddenSize, { dtype }));
  }

  forward(x: Tensor, mask: Tensor | null): Tensor {
    const [q, k, v] = ["query", "key", "value"].map((name) => run(this.child(name), x));
    return T.attention(q, k, v, { heads: this.c.numHeads, keyMask: mask });
  }
}

class Attention extends Module {
  constructor(c: BertConfig, dtype: DType) {
    super();
    this.registerModule("self", new SelfAttention(c, dtype));
    this.registerModule("output", new AddNorm(c.hiddenSize, c, dtype));
  }

  forward(x: Tensor, mask: Tensor | null): Tensor {
    return (this.child("output") as AddNorm).forward(
      (this.child("self") as SelfAttention).forward(x, mask),
      x,
    );
  }
}

class Intermediate extends Module {
  private readonly act: ActivationFn;

  constructor(c: BertConfig, dtype: DType) {
    super();
    this.act = activationByName(c.activation)!;
    this.registerModule("dense", new Linear(c.hiddenSize, c.intermediateSize, { dtype }));
  }

  forward(x: Tensor): Tensor {
    return this.act(run(this.child("dense"), x));
  }
}

class Layer extends Module {
  constructor(c: BertConfig, dtype: DType) {
    super();
    this.registerModule("attention", new Attention(c, dtype));
    this.registerModule("intermediate", new Intermediate(c, dtype));
    this.registerModule("output", new AddNorm(c.intermediateSize, c, dtype));
  }

  forward(x: Tensor, mask: Tensor | null): Tensor {
    const h = (this.child("attention") as Attention).forward(x, mask);
    return (this.child("output") as AddNorm).forward(run(this.child("intermediate"), h), h);
  }
}

class Embeddings extends Module {
  constructor(
    private readonly c: BertConfig,
    dtype: DType,
  ) {
    super();
    this.registerModule("word_embeddings", new Embedding(c.vocabSize, c.hiddenSize, { dtype }));
    this.registerModule("position_embeddings", new Embedding(c.maxPositions, c.hiddenSize, { dtype }));
    this.registerModule("token_type_embeddings", new Embedding(c.typeVocabSize, c.hiddenSize, { dtype }));
    this.registerModule("LayerNorm", new LayerNorm(c.hiddenSize, c.layerNormEps, { dtype }));
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
    const sum = T.add(
      T.add(
        run(this.child("word_embeddings"), ids),
        run(this.child("position_embeddings"), this.positions(ids)),
      ),
      run(this.child("token_type_embeddings"), types),
    );
    return run(this.child("LayerNorm"), sum);
  }
}

class Encoder extends Module {
  constructor(c: BertConfig, dtype: DType) {
    super();
    this.registerModule(
      "layer",
      new LayerStack(Array.from({ length: c.numLayers }, () => new Layer(c, dtype))),
    );
  }
}

/** The encoder body with HF's names: embeddings, encoder.layer.N, and (with a pooler) pooler.dense; see encode. */
class EncoderBody extends Module {
  constructor(c: BertConfig, dtype: DType, withPooler: boolean) {
    super();
    this.registerModule("embeddings", new Embeddings(c, dtype));
    this.registerModule("encoder", new Encoder(c, dtype));
    if (withPooler) this.registerModule("pooler", new Pooler(c, dtype));
  }
}

/** Hidden states of the encoder whose "embeddings" and "encoder" are children of owner. */
function encode(
  owner: Module,
  ids: Tensor,
  { attentionMask = null, tokenTypeIds = null }: EncoderInput,
): Tensor {
  const x = (owner.child("embeddings") as Embeddings).forward(ids, tokenTypeIds);
  const layers = owner.getSubmodule("encoder.layer") as LayerStack<Layer>;
  return layers.run(x, (layer, h) => layer.forward(h, attentionMask));
}

class Pooler extends Module {
  constructor(c: BertConfig, dtype: DType) {
    super();
    this.registerModule("dense", new Linear(c.hiddenSize, c.hiddenSize, { dtype }));
  }

  /** tanh(dense(hidden of the first token)). */
  forward(hidden: Tensor): Tensor {
    return T.tanh(run(this.child("dense"), T.squeeze(T.slice(hidden, 1, 0, 1), 1)));
  }
}

export interface EncoderInput {
  /** [B, T]: 1 for real tokens, 0 for padding. */
  attentionMask?: Tensor | null;
  tokenTypeIds?: Tensor | null;
}

/** RoBERTa's head: dense, tanh, out_proj on the first token's hidden state. */
class RobertaHead extends Module {
  constructor(c: BertConfig, dtype: DType) {
    super();
    this.registerModule("dense", new Linear(c.hiddenSize, c.hiddenSize, { dtype }));
    this.registerModule("out_proj", new Linear(c.hiddenSize, c.numLabels, { dtype }));
  }

  forward(hidden: Tensor): Tensor {
    const first = T.squeeze(T.slice(hidden, 1, 0, 1), 1);
    return run(this.child("out_proj"), T.tanh(run(this.child("dense"), first)));
  }
}

/**
 * BertModel / RobertaModel (task "encoder": hidden states) and BertForSequenceClassification /
 * RobertaForSequenceClassification (task "classification": logits [B, labels]).
 */
export class BertFamilyModel extends PretrainedModel {
  readonly architecture: string;
  private readonly prefix: string;

  constructor(
    readonly config: BertConfig,
    readonly task: "encoder" | "classification",
    dtype: DType = "float32",
  ) {
    super();
    const roberta = config.flavor === "roberta";
    const name = roberta ? "Roberta" : "Bert";
    this.architecture = task === "encoder" ? `${name}Model` : `${name}ForSequenceClassification`;
    // HF's bare models have no prefix; task models keep the body under "bert." / "roberta.".
    this.prefix = task === "encoder" ? "" : `${config.flavor}.`;
    const body = new EncoderBody(config, dtype, task === "encoder" || !roberta);
    if (task === "encoder") {
      for (const [n, m] of body.namedChildren()) this.registerModule(n, m);
    } else {
      this.registerModule(config.flavor, body);
      this.registerModule(
        "classifier",
        roberta ? new RobertaHead(config, dtype) : new Linear(config.hiddenSize, config.numLabels, { dtype }),
      );
    }
  }

  get numLabels(): number {
    return this.config.numLabels;
  }

  override checkpointName(name: string): string | null {
    const renamed = name
      .replace(/LayerNorm\.gamma$/, "LayerNorm.weight")
      .replace(/LayerNorm\.beta$/, "LayerNorm.bias");
    if (/position_ids$/.test(renamed) || /^(cls|lm_head)\./.test(renamed)) return null;
    const bare = renamed.startsWith(`${this.config.flavor}.`)
      ? renamed.slice(this.config.flavor.length + 1)
      : renamed;
    if (bare.startsWith("classifier.")) return this.task === "classification" ? bare : null;
    if (bare.startsWith("pooler.") && this.task === "classification" && this.config.flavor === "roberta")
      return null;
    return `${this.prefix}${bare}`;
  }

  override mayBeFresh(name: string): boolean {
    return name.startsWith("classifier.") || name.includes("pooler.");
  }

  /** Hidden states [B, T, hidden] (encoder) or class logits [B, labels] (classification). */
  forward(ids: Tensor, input: EncoderInput = {}): Tensor {
    const hidden = encode(this.task === "encoder" ? this : this.child(this.config.flavor), ids, input);
    if (this.task === "encoder") return hidden;
    const head = this.child("classifier");
    if (this.config.flavor === "roberta") return (head as RobertaHead).forward(hidden);
    return run(head, (this.getSubmodule("bert.pooler") as Pooler).forward(hidden));
  }
}
