import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { buildModel, loadModel } from "../../src/models/hf.js";
import type { LlamaForCausalLM } from "../../src/models/llama.js";
import * as T from "../../src/tensor/index.js";
import { noGrad } from "../../src/tensor/index.js";
import { LLAMA_CONFIG, llamaShapes, randomTensors, writeFolder } from "../support/hf-folders.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "morelora-config-"));
const IDS = T.tensor([[3, 17, 5, 40]], { dtype: "int32" });

describe("config.json fields, transformers' defaults as the reference", () => {
  it("Qwen2 without tie_word_embeddings keeps its own lm_head (Qwen2Config defaults to False)", () => {
    const config: Record<string, unknown> = {
      ...LLAMA_CONFIG,
      architectures: ["Qwen2ForCausalLM"],
      model_type: "qwen2",
    };
    delete config.tie_word_embeddings;
    const weights = randomTensors(llamaShapes({ ...LLAMA_CONFIG, tie_word_embeddings: false }, true), 1);
    const model = loadModel(writeFolder(tmp(), config, weights)) as LlamaForCausalLM;
    const head = model.getSubmodule("lm_head").param("weight")!;
    assert.notEqual(head, model.getSubmodule("model.embed_tokens").param("weight"));
    assert.deepEqual(head.toArray(), weights.get("lm_head.weight")!.toArray());
  });

  it("reads rope_theta inside transformers 5's rope_parameters", () => {
    const weights = randomTensors(llamaShapes(LLAMA_CONFIG), 2, 0.5);
    const logits = (config: Record<string, unknown>): number[] =>
      Array.from(
        noGrad(() => (loadModel(writeFolder(tmp(), config, weights)) as LlamaForCausalLM).forward(IDS)).data,
      );
    const v5: Record<string, unknown> = { ...LLAMA_CONFIG };
    delete v5.rope_theta;
    assert.deepEqual(
      logits({ ...v5, rope_parameters: { rope_type: "default", rope_theta: 500 } }),
      logits({ ...LLAMA_CONFIG, rope_theta: 500 }),
    );
    assert.notDeepEqual(logits({ ...LLAMA_CONFIG, rope_theta: 500 }), logits(LLAMA_CONFIG));
  });

  it("refuses an unknown or mismatched model_type and unknown architectures, naming the field", () => {
    assert.throws(
      () => buildModel({ ...LLAMA_CONFIG, model_type: "gemma" }),
      /config\.json: "model_type" "gemma" is not the one of LlamaForCausalLM \("llama"\)/,
    );
    assert.throws(
      () => buildModel({ ...LLAMA_CONFIG, model_type: "qwen2" }),
      /"model_type" "qwen2" is not the one of LlamaForCausalLM/,
    );
    assert.throws(
      () =>
        buildModel({ ...LLAMA_CONFIG, architectures: ["LlamaForCausalLM", "LlamaForTokenClassification"] }),
      /architecture LlamaForTokenClassification is not supported/,
    );
    assert.throws(
      () => buildModel({ ...LLAMA_CONFIG, architectures: [] }),
      /"architectures" must list the model class/,
    );
  });

  it("stops at fields that change the computation and are not implemented; accepts the rest", () => {
    const gpt2 = {
      architectures: ["GPT2LMHeadModel"],
      model_type: "gpt2",
      vocab_size: 8,
      n_positions: 8,
      n_embd: 4,
      n_layer: 1,
      n_head: 1,
    };
    const bert = {
      architectures: ["BertForSequenceClassification"],
      model_type: "bert",
      vocab_size: 8,
      hidden_size: 4,
      num_hidden_layers: 1,
      num_attention_heads: 1,
      intermediate_size: 8,
      max_position_embeddings: 8,
    };
    for (const [config, pattern] of [
      [{ ...LLAMA_CONFIG, attention_dropout: 1 }, /"attention_dropout" must be a probability in \[0, 1\)/],
      [{ ...bert, hidden_dropout_prob: -0.1 }, /"hidden_dropout_prob" must be a probability/],
      [{ ...bert, classifier_dropout: "0.1" }, /"classifier_dropout" must be a probability/],
      [
        { ...LLAMA_CONFIG, rope_scaling: { rope_type: "yarn", factor: 4 } },
        /"rope_scaling" type "yarn" is not supported/,
      ],
      [{ ...gpt2, add_cross_attention: true }, /"add_cross_attention" is not implemented/],
      [{ ...gpt2, activation_function: "mish" }, /"activation_function" must name an activation/],
      [{ ...bert, position_embedding_type: "relative_key" }, /"position_embedding_type" is not implemented/],
      [{ ...bert, is_decoder: true }, /"is_decoder" is not implemented/],
      [{ ...bert, problem_type: "regression" }, /"problem_type" is not implemented/],
      [{ ...bert, num_labels: 1 }, /"num_labels" must give at least 2 labels/],
    ] as const) {
      assert.throws(() => buildModel(config), pattern, JSON.stringify(config));
    }
    for (const config of [
      {
        ...LLAMA_CONFIG,
        attention_dropout: 0.1,
        hidden_act: "silu",
        pretraining_tp: 1,
        use_cache: true,
        transformers_version: "4.51.0",
      },
      { ...gpt2, reorder_and_upcast_attn: true, scale_attn_weights: true, summary_type: "cls_index" },
      {
        ...bert,
        position_embedding_type: "absolute",
        problem_type: "single_label_classification",
        classifier_dropout: null,
      },
    ])
      assert.doesNotThrow(() => buildModel(config), JSON.stringify(config));
  });
});
