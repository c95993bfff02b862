import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { getPeftModel } from "../../src/adapters/index.js";
import { loadSafetensors } from "../../src/io/index.js";
import type { BertFamilyModel } from "../../src/models/bert.js";
import { generate } from "../../src/models/generate.js";
import type { Gpt2LMHeadModel } from "../../src/models/gpt2.js";
import { loadModel, saveModel } from "../../src/models/hf.js";
import * as T from "../../src/tensor/index.js";
import { noGrad, type Tensor } from "../../src/tensor/index.js";
import { assertClose } from "../helpers.js";
import { GPT2_CONFIG, gpt2Shapes, randomTensors, writeFolder } from "../support/hf-folders.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "morelora-models-"));
const ids = (rows: number[][]): Tensor => T.tensor(rows, { dtype: "int32" });

const GPT2 = GPT2_CONFIG;

function bertConfig(flavor: "bert" | "roberta", task: "Model" | "ForSequenceClassification") {
  const name = flavor === "bert" ? "Bert" : "Roberta";
  return {
    architectures: [`${name}${task}`],
    model_type: flavor,
    vocab_size: 30,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 32,
    max_position_embeddings: 24,
    type_vocab_size: flavor === "bert" ? 2 : 1,
    layer_norm_eps: 1e-12,
    hidden_act: "gelu",
    pad_token_id: flavor === "bert" ? 0 : 1,
    id2label: { 0: "ham", 1: "spam", 2: "other" },
  };
}

function bertShapes(
  flavor: "bert" | "roberta",
  task: "Model" | "ForSequenceClassification",
): Record<string, number[]> {
  const d = 16;
  const p = task === "Model" ? "" : `${flavor}.`;
  const shapes: Record<string, number[]> = {
    [`${p}embeddings.word_embeddings.weight`]: [30, d],
    [`${p}embeddings.position_embeddings.weight`]: [24, d],
    [`${p}embeddings.token_type_embeddings.weight`]: [flavor === "bert" ? 2 : 1, d],
    [`${p}embeddings.LayerNorm.weight`]: [d],
    [`${p}embeddings.LayerNorm.bias`]: [d],
  };
  for (let i = 0; i < 2; i++) {
    const l = `${p}encoder.layer.${i}`;
    for (const [n, shape] of [
      ["attention.self.query", [d, d]],
      ["attention.self.key", [d, d]],
      ["attention.self.value", [d, d]],
      ["attention.output.dense", [d, d]],
      ["intermediate.dense", [32, d]],
      ["output.dense", [d, 32]],
    ] as const) {
      shapes[`${l}.${n}.weight`] = [...shape];
      shapes[`${l}.${n}.bias`] = [shape[0]];
    }
    for (const n of ["attention.output.LayerNorm", "output.LayerNorm"]) {
      shapes[`${l}.${n}.weight`] = [d];
      shapes[`${l}.${n}.bias`] = [d];
    }
  }
  if (task === "Model" || flavor === "bert")
    Object.assign(shapes, { [`${p}pooler.dense.weight`]: [d, d], [`${p}pooler.dense.bias`]: [d] });
  if (task === "ForSequenceClassification") {
    if (flavor === "bert") Object.assign(shapes, { "classifier.weight": [3, d], "classifier.bias": [3] });
    else
      Object.assign(shapes, {
        "classifier.dense.weight": [d, d],
        "classifier.dense.bias": [d],
        "classifier.out_proj.weight": [3, d],
        "classifier.out_proj.bias": [3],
      });
  }
  return shapes;
}

describe("GPT-2", () => {
  it("loads OpenAI-style names, saves HF's, and generates the same with and without the KV cache", () => {
    const model = loadModel(writeFolder(tmp(), GPT2, randomTensors(gpt2Shapes(), 1, 0.3))) as Gpt2LMHeadModel;
    const out = tmp();
    saveModel(model, out);
    const saved = loadSafetensors(join(out, "model.safetensors"));
    assert.ok(saved.has("transformer.h.0.attn.c_attn.weight") && !saved.has("lm_head.weight"));
    const again = loadModel(out) as Gpt2LMHeadModel;
    const x = ids([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    assert.deepEqual(noGrad(() => again.forward(x)).toArray(), noGrad(() => model.forward(x)).toArray());
    const tokens = generate(model, [1, 2, 3], { maxNewTokens: 10 });
    assert.deepEqual(generate(model, [1, 2, 3], { maxNewTokens: 10, useCache: false }), tokens);
  });

  it("takes LoRA on the fused Conv1D c_attn; merged equals unmerged", () => {
    const model = loadModel(writeFolder(tmp(), GPT2, randomTensors(gpt2Shapes(), 2, 0.3)), {
      dtype: "float64",
    }) as Gpt2LMHeadModel;
    const peft = getPeftModel(model, { targetModules: ["c_attn"], r: 4, alpha: 8, init: "better" });
    assert.equal(peft.layers().length, 2);
    assert.equal(peft.layers()[0][1].view.kind, "conv1d");
    noGrad(() => {
      for (const [, t] of peft.trainableParameters())
        for (let i = 0; i < t.size; i++) t.data[i] += Math.cos(i) * 0.3;
    });
    const x = ids([[1, 2, 3, 4]]);
    const before = noGrad(() => peft.forward(x));
    assert.notDeepEqual(before.toArray(), noGrad(() => peft.disableAdapter(() => peft.forward(x))).toArray());
    const merged = peft.mergeAndUnload();
    assertClose(noGrad(() => merged.forward(x)).data, before.data, { rtol: 1e-9, atol: 1e-10 });
  });
});

describe("BERT and RoBERTa", () => {
  for (const flavor of ["bert", "roberta"] as const) {
    it(`${flavor}: classification loads, round-trips and takes adapters on query/value`, () => {
      const config = bertConfig(flavor, "ForSequenceClassification");
      const dir = writeFolder(
        tmp(),
        config,
        randomTensors(bertShapes(flavor, "ForSequenceClassification"), 3),
      );
      const model = loadModel(dir, { dtype: "float64" }) as BertFamilyModel;
      const x = ids([[2, 5, 9, 4, 3]]);
      const logits = noGrad(() => model.forward(x));
      assert.deepEqual(logits.shape, [1, 3]);
      const out = tmp();
      saveModel(model, out);
      const original = loadSafetensors(join(dir, "model.safetensors"));
      const saved = loadSafetensors(join(out, "model.safetensors"));
      assert.deepEqual([...saved.keys()].sort(), [...original.keys()].sort());
      assert.deepEqual(
        noGrad(() => (loadModel(out, { dtype: "float64" }) as BertFamilyModel).forward(x)).toArray(),
        logits.toArray(),
      );

      const peft = getPeftModel(model, {
        targetModules: ["query", "value"],
        r: 2,
        alpha: 4,
        modulesToSave: ["classifier"],
      });
      assert.equal(peft.layers().length, 4);
      noGrad(() => {
        for (const [, t] of peft.trainableParameters())
          for (let i = 0; i < t.size; i++) t.data[i] += Math.sin(i) * 0.2;
      });
      const adapted = noGrad(() => peft.forward(x));
      const merged = peft.mergeAndUnload();
      assertClose(noGrad(() => merged.forward(x)).data, adapted.data, { rtol: 1e-9, atol: 1e-10 });
    });

    it(`${flavor}: padding does not change a sequence's output; a bare encoder starts a classifier fresh`, () => {
      const dir = writeFolder(
        tmp(),
        bertConfig(flavor, "Model"),
        randomTensors(bertShapes(flavor, "Model"), 4),
      );
      const encoder = loadModel(dir, { dtype: "float64" }) as BertFamilyModel;
      const pad = flavor === "bert" ? 0 : 1;
      const alone = noGrad(() => encoder.forward(ids([[2, 5, 9]])));
      const padded = noGrad(() =>
        encoder.forward(ids([[2, 5, 9, pad, pad]]), { attentionMask: ids([[1, 1, 1, 0, 0]]) }),
      );
      assertClose(padded.data.subarray(0, 3 * 16), alone.data, { rtol: 1e-9, atol: 1e-10 });
      const warnings: string[] = [];
      const cls = bertConfig(flavor, "ForSequenceClassification");
      const classifier = loadModel(writeFolder(dir, cls, randomTensors(bertShapes(flavor, "Model"), 4)), {
        warn: (m) => warnings.push(m),
      });
      assert.match(warnings.join("\n"), /classifier\..* initialised fresh/);
      assert.deepEqual(noGrad(() => (classifier as BertFamilyModel).forward(ids([[2, 5, 9]]))).shape, [1, 3]);
    });
  }
});
