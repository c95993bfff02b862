import { Conv1D, Embedding, Linear, Module, ModuleList, RMSNorm } from "../../src/nn/index.js";
import type { Tensor } from "../../src/tensor/index.js";
import * as T from "../../src/tensor/index.js";

/** The TinyDecoder of ../shared/fixtures/peft/base_model/config.json, built from nn modules. */
export interface TinyDecoderConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_layers: number;
}

type Forward = Module & { forward(x: Tensor): Tensor };
const call = (m: Module, x: Tensor): Tensor => (m as Forward).forward(x);

class Attention extends Module {
  constructor(d: number) {
    super();
    this.registerModule("q_proj", new Linear(d, d));
    this.registerModule("k_proj", new Linear(d, d));
    this.registerModule("v_proj", new Linear(d, d));
    this.registerModule("o_proj", new Linear(d, d, { bias: false }));
  }

  forward(h: Tensor): Tensor {
    const [q, k, v] = ["q_proj", "k_proj", "v_proj"].map((name) => call(this.child(name), h));
    return call(this.child("o_proj"), T.attention(q, k, v, { heads: 1, causal: true }));
  }
}

class Mlp extends Module {
  constructor(d: number, f: number) {
    super();
    this.registerModule("gate_proj", new Conv1D(d, f));
    this.registerModule("up_proj", new Linear(d, f));
    this.registerModule("down_proj", new Linear(f, d, { bias: false }));
  }

  forward(h: Tensor): Tensor {
    const g = T.silu(call(this.child("gate_proj"), h));
    return call(this.child("down_proj"), T.mul(g, call(this.child("up_proj"), h)));
  }
}

class Layer extends Module {
  constructor(c: TinyDecoderConfig) {
    super();
    this.registerModule("input_layernorm", new RMSNorm(c.hidden_size, 1e-6));
    this.registerModule("self_attn", new Attention(c.hidden_size));
    this.registerModule("post_attention_layernorm", new RMSNorm(c.hidden_size, 1e-6));
    this.registerModule("mlp", new Mlp(c.hidden_size, c.intermediate_size));
  }

  forward(x: Tensor): Tensor {
    x = T.add(x, call(this.child("self_attn"), call(this.child("input_layernorm"), x)));
    return T.add(x, call(this.child("mlp"), call(this.child("post_attention_layernorm"), x)));
  }
}

class Body extends Module {
  constructor(c: TinyDecoderConfig) {
    super();
    this.registerModule("embed_tokens", new Embedding(c.vocab_size, c.hidden_size));
    this.registerModule("layers", new ModuleList(Array.from({ length: c.num_layers }, () => new Layer(c))));
    this.registerModule("norm", new RMSNorm(c.hidden_size, 1e-6));
  }

  forward(ids: Tensor): Tensor {
    let x = call(this.child("embed_tokens"), ids);
    for (const layer of this.child("layers") as ModuleList) x = call(layer, x);
    return call(this.child("norm"), x);
  }
}

export class TinyDecoder extends Module {
  constructor(c: TinyDecoderConfig) {
    super();
    this.registerModule("model", new Body(c));
    this.registerModule("lm_head", new Linear(c.hidden_size, c.vocab_size, { bias: false }));
  }

  forward(ids: Tensor): Tensor {
    return call(this.child("lm_head"), call(this.child("model"), ids));
  }
}
