import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { getPeftModel } from "../../src/adapters/index.js";
import { dropoutRow } from "../../src/backend/js/dropout-mask.js";
import { loadSafetensors } from "../../src/io/index.js";
import type { BertForSequenceClassification, BertModel } from "../../src/models/bert.js";
import { generate } from "../../src/models/generate.js";
import type { Gpt2LMHeadModel } from "../../src/models/gpt2.js";
import { loadModel, saveModel } from "../../src/models/hf.js";
import { dropoutModules, type Module, seedDropout } from "../../src/nn/index.js";
import * as T from "../../src/tensor/index.js";
import { Generator, noGrad, type Tensor } from "../../src/tensor/index.js";
import { assertClose, gradCheck } from "../helpers.js";
import { GPT2_CONFIG, gpt2Shapes, randomTensors, writeFolder } from "../support/hf-folders.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "morelora-models-"));
const intTensor = (rows: number[][]): Tensor => T.tensor(rows, { dtype: "int32" });

const GPT2 = GPT2_CONFIG;

type Weights = Map<string, Tensor>;

/**
 * Dropout multipliers for the naive models (0 or 1/(1 − p)): `hidden` at a hidden-state site (the
 * Dropout module's path, e.g. "transformer.h.0.mlp.dropout") for position t and feature i; `probs`
 * on layer l's attention probability of query t, head h, for key s.
 */
interface DropMasks {
  hidden(site: string, t: number, i: number): number;
  probs(l: number, h: number, t: number, s: number): number;
}

const NO_DROPOUT: DropMasks = { hidden: () => 1, probs: () => 1 };

/**
 * GPT-2 written out with loops from transformers' modeling_gpt2 (OpenAI tensor names): learned
 * positions (0..T−1 unless given), scores scaled by 1/√head_dim (scale_attn_weights) and
 * 1/(layer+1) (scale_attn_by_inverse_layer_idx), padding masked, gelu_new, head = lm_head or wte;
 * in training, dropout on the embeddings' sum, the attention probabilities and each residual branch.
 */
function naiveGpt2(
  w: Weights,
  c: Record<string, unknown>,
  ids: number[],
  {
    mask = ids.map(() => 1),
    positions = ids.map((_, t) => t),
    drop = NO_DROPOUT,
  }: { mask?: number[]; positions?: number[]; drop?: DropMasks } = {},
): number[][] {
  const d = 16;
  const heads = 4;
  const hd = d / heads;
  const get = (name: string): number[] => Array.from(w.get(name)!.data);
  const conv = (x: number[], name: string): number[] => {
    const wt = get(`${name}.weight`);
    const b = get(`${name}.bias`);
    return b.map((bo, o) => x.reduce((s, xi, i) => s + xi * wt[i * b.length + o], bo));
  };
  const ln = (x: number[], name: string): number[] => {
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
    const [g, b] = [get(`${name}.weight`), get(`${name}.bias`)];
    return x.map((xi, i) => ((xi - mean) / Math.sqrt(v + 1e-5)) * g[i] + b[i]);
  };
  const gelu = (v: number): number =>
    0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  const wte = get("wte.weight");
  const wpe = get("wpe.weight");
  let xs = ids.map((id, t) =>
    Array.from(
      { length: d },
      (_, i) => (wte[id * d + i] + wpe[positions[t] * d + i]) * drop.hidden("transformer.drop", t, i),
    ),
  );
  for (let l = 0; l < (c.n_layer as number); l++) {
    const p = `h.${l}`;
    let scale = c.scale_attn_weights === false ? 1 : 1 / Math.sqrt(hd);
    if (c.scale_attn_by_inverse_layer_idx === true) scale /= l + 1;
    const qkv = xs.map((x) => conv(ln(x, `${p}.ln_1`), `${p}.attn.c_attn`));
    const att = xs.map((_, t) => {
      const out = new Array<number>(d).fill(0);
      for (let h = 0; h < heads; h++) {
        const keys = Array.from({ length: t + 1 }, (_, s) => s).filter((s) => mask[s] === 1);
        const scores = keys.map((s) => {
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += qkv[t][h * hd + i] * qkv[s][d + h * hd + i];
          return dot * scale;
        });
        const top = Math.max(...scores);
        const e = scores.map((v) => Math.exp(v - top));
        const z = e.reduce((a, b) => a + b, 0);
        keys.forEach((s, j) => {
          const prob = (e[j] / z) * drop.probs(l, h, t, s);
          for (let i = 0; i < hd; i++) out[h * hd + i] += prob * qkv[s][2 * d + h * hd + i];
        });
      }
      return out;
    });
    xs = xs.map((x, t) => {
      const a = conv(att[t], `${p}.attn.c_proj`);
      const h1 = x.map((v, i) => v + a[i] * drop.hidden(`transformer.${p}.attn.resid_dropout`, t, i));
      const m = conv(conv(ln(h1, `${p}.ln_2`), `${p}.mlp.c_fc`).map(gelu), `${p}.mlp.c_proj`);
      return h1.map((v, i) => v + m[i] * drop.hidden(`transformer.${p}.mlp.dropout`, t, i));
    });
  }
  const head = w.has("lm_head.weight") ? get("lm_head.weight") : wte;
  const vocab = c.vocab_size as number;
  return xs.map((x) => {
    const f = ln(x, "ln_f");
    return Array.from({ length: vocab }, (_, o) => f.reduce((s, fi, i) => s + fi * head[o * d + i], 0));
  });
}

/**
 * BertForSequenceClassification / RobertaForSequenceClassification written out with loops from
 * transformers' modeling_bert and modeling_roberta, for one unpadded sequence: word + position
 * (RoBERTa's from pad + 1) + token type 0 embeddings, LayerNorm; per layer softmax(q·kᵀ/√d)·v,
 * dense, LayerNorm with the residual, the MLP (gelu_new here), LayerNorm with the residual; BERT
 * classifies tanh(pooler(first token)), RoBERTa dense, tanh, out_proj of the first token. In
 * training, dropout after the embeddings, on the attention probabilities, on each residual branch,
 * before the classifier (twice in RoBERTa's head).
 */
function naiveBertClassifier(
  w: Weights,
  c: ReturnType<typeof bertConfig>,
  ids: number[],
  drop = NO_DROPOUT,
): number[] {
  const [d, heads, hd] = [16, 4, 4];
  const flavor = c.model_type;
  const p = `${flavor}.`;
  const get = (name: string): number[] => Array.from(w.get(name)!.data);
  const linear = (x: number[], name: string): number[] => {
    const [wt, b] = [get(`${name}.weight`), get(`${name}.bias`)];
    return b.map((bo, o) => x.reduce((sum, xi, i) => sum + xi * wt[o * x.length + i], bo));
  };
  const ln = (x: number[], name: string): number[] => {
    const mean = x.reduce((a, v) => a + v, 0) / x.length;
    const v = x.reduce((a, xi) => a + (xi - mean) ** 2, 0) / x.length;
    const [g, b] = [get(`${name}.weight`), get(`${name}.bias`)];
    return x.map((xi, i) => ((xi - mean) / Math.sqrt(v + c.layer_norm_eps)) * g[i] + b[i]);
  };
  const gelu = (v: number): number =>
    0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  const dropped = (site: string, x: number[], t: number): number[] =>
    x.map((v, i) => v * drop.hidden(site, t, i));
  const [words, positions, types] = ["word", "position", "token_type"].map((n) =>
    get(`${p}embeddings.${n}_embeddings.weight`),
  );
  let xs = ids.map((id, t) => {
    const pos = flavor === "bert" ? t : c.pad_token_id + 1 + t;
    const sum = Array.from({ length: d }, (_, i) => words[id * d + i] + positions[pos * d + i] + types[i]);
    return dropped(`${p}embeddings.dropout`, ln(sum, `${p}embeddings.LayerNorm`), t);
  });
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const at = `${p}encoder.layer.${l}`;
    const [q, k, v] = ["query", "key", "value"].map((n) =>
      xs.map((x) => linear(x, `${at}.attention.self.${n}`)),
    );
    xs = xs.map((x, t) => {
      const context = new Array<number>(d).fill(0);
      for (let h = 0; h < heads; h++) {
        const scores = k.map((ks) => {
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += q[t][h * hd + i] * ks[h * hd + i];
          return dot / Math.sqrt(hd);
        });
        const e = scores.map((sc) => Math.exp(sc - Math.max(...scores)));
        const z = e.reduce((a, b) => a + b, 0);
        e.forEach((es, s) => {
          const prob = (es / z) * drop.probs(l, h, t, s);
          for (let i = 0; i < hd; i++) context[h * hd + i] += prob * v[s][h * hd + i];
        });
      }
      const a = dropped(`${at}.attention.output.dropout`, linear(context, `${at}.attention.output.dense`), t);
      const h1 = ln(
        a.map((ai, i) => ai + x[i]),
        `${at}.attention.output.LayerNorm`,
      );
      const inner = linear(h1, `${at}.intermediate.dense`).map(gelu);
      const m = dropped(`${at}.output.dropout`, linear(inner, `${at}.output.dense`), t);
      return ln(
        m.map((mi, i) => mi + h1[i]),
        `${at}.output.LayerNorm`,
      );
    });
  }
  if (flavor === "bert") {
    const pooled = linear(xs[0], `${p}pooler.dense`).map(Math.tanh);
    return linear(dropped("dropout", pooled, 0), "classifier");
  }
  const dense = linear(dropped("classifier.dropout", xs[0], 0), "classifier.dense").map(Math.tanh);
  return linear(dropped("classifier.dropout", dense, 1), "classifier.out_proj");
}

/**
 * The masks a model in training mode will draw in its next forward of one sequence of `steps`
 * tokens, read from copies of its Dropout generators: each call of a site draws one seed, T.dropout
 * hashing an element's index within the call and the fused attention its (query row, key). A
 * hidden-state site drops [1, steps, 16] at once (element t·16 + i of its one call), except those
 * in `perToken`, classifier heads that drop one token per call: there t counts the calls (RoBERTa's
 * head calls its site twice) and the element is i. Sites are the modules' paths; `attentionSite`
 * gives layer l's attention dropout.
 */
function dropMasksOf(
  model: Module,
  steps: number,
  attentionSite: (l: number) => string,
  perToken: string[] = [],
): DropMasks {
  // Copies taken now, before the forward draws from the originals.
  const streams = new Map(
    dropoutModules(model).map(([path, m]) => {
      const g = new Generator();
      g.setState(m.rng.getState());
      return [path, { p: m.p, g, seeds: [] as number[] }];
    }),
  );
  /** The multipliers of one mask row, in the call'th call of the site at path. */
  const mask = (path: string, call: number, row: number): ((j: number) => number) => {
    const s = streams.get(path);
    assert.ok(s, `no Dropout at ${path}`);
    while (s.seeds.length <= call) s.seeds.push(s.g.nextUint32());
    return dropoutRow(s.p, s.seeds[call], row);
  };
  const hidden = (path: string, t: number, i: number): number =>
    perToken.includes(path) ? mask(path, t, 0)(i) : mask(path, 0, 0)(t * 16 + i);
  const probs = (l: number, h: number, t: number, s: number): number =>
    mask(attentionSite(l), 0, h * steps + t)(s);
  return { hidden, probs };
}

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
  it("matches transformers' equations, with scale_attn_weights and scale_attn_by_inverse_layer_idx", () => {
    const ids = [1, 7, 3, 30, 12];
    for (const flags of [
      {},
      { scale_attn_by_inverse_layer_idx: true },
      { scale_attn_weights: false, scale_attn_by_inverse_layer_idx: true },
    ]) {
      const config = { ...GPT2, ...flags };
      const weights = randomTensors(gpt2Shapes(), 5, 0.3);
      const model = loadModel(writeFolder(tmp(), config, weights), { dtype: "float64" }) as Gpt2LMHeadModel;
      assertClose(
        noGrad(() => model.forward(intTensor([ids]))).data,
        naiveGpt2(weights, config, ids).flat(),
        {
          rtol: 1e-9,
          atol: 1e-10,
          what: JSON.stringify(flags),
        },
      );
    }
  });

  it("in training, drops where transformers does (embeddings, attention probabilities, residual branches); in eval, never", () => {
    const config = { ...GPT2, embd_pdrop: 0.2, attn_pdrop: 0.3, resid_pdrop: 0.25 };
    const weights = randomTensors(gpt2Shapes(), 5, 0.3);
    const model = loadModel(writeFolder(tmp(), config, weights), { dtype: "float64" }) as Gpt2LMHeadModel;
    const ids = [1, 7, 3, 30, 12, 5];
    const forward = (): Float64Array => noGrad(() => model.forward(intTensor([ids]))).data as Float64Array;
    const plain = naiveGpt2(weights, config, ids).flat();
    assertClose(forward(), plain, { rtol: 1e-9, atol: 1e-10, what: "a loaded model is in eval mode" });

    model.train();
    seedDropout(model, 11);
    const drop = dropMasksOf(model, ids.length, (l) => `transformer.h.${l}.attn.attn_dropout`);
    const trained = forward();
    assertClose(trained, naiveGpt2(weights, config, ids, { drop }).flat(), { rtol: 1e-9, atol: 1e-10 });
    assert.ok(
      trained.some((v, i) => Math.abs(v - plain[i]) > 1e-3),
      "dropout changed nothing",
    );
    assert.notDeepEqual(forward(), trained, "the next forward draws new masks");
  });

  it("refuses a dropout probability outside [0, 1), naming the key", () => {
    for (const key of ["embd_pdrop", "attn_pdrop", "resid_pdrop"])
      assert.throws(
        () => loadModel(writeFolder(tmp(), { ...GPT2, [key]: 1 }, randomTensors(gpt2Shapes(), 5))),
        new RegExp(`config.json: "${key}" must be a probability in \\[0, 1\\), got 1`),
      );
    const dir = writeFolder(tmp(), GPT2, randomTensors(gpt2Shapes(), 5));
    assert.throws(
      () => loadModel(dir, { config: { resid_pdrop: 2 } }),
      /config\.json \(as overridden\): "resid_pdrop" must be a probability in \[0, 1\), got 2/,
    );
  });

  it("keeps lm_head apart when tie_word_embeddings is false, loading and saving it", () => {
    const config = { ...GPT2, tie_word_embeddings: false };
    const weights = randomTensors({ ...gpt2Shapes(), "lm_head.weight": [40, 16] }, 6, 0.3);
    const model = loadModel(writeFolder(tmp(), config, weights), { dtype: "float64" }) as Gpt2LMHeadModel;
    const ids = [4, 9, 2];
    assertClose(noGrad(() => model.forward(intTensor([ids]))).data, naiveGpt2(weights, config, ids).flat(), {
      rtol: 1e-9,
      atol: 1e-10,
    });
    const out = tmp();
    saveModel(model, out);
    assert.deepEqual(
      loadSafetensors(join(out, "model.safetensors")).get("lm_head.weight")!.toArray(),
      weights.get("lm_head.weight")!.toArray(),
    );
  });

  it("uses positions 0..T−1 under a left-padding mask, as transformers' forward; positionIds override", () => {
    const weights = randomTensors(gpt2Shapes(), 7, 0.3);
    const model = loadModel(writeFolder(tmp(), GPT2, weights), { dtype: "float64" }) as Gpt2LMHeadModel;
    const ids = [0, 0, 5, 6, 7];
    const mask = [0, 0, 1, 1, 1];
    const padded = noGrad(() => model.forward(intTensor([ids]), { attentionMask: intTensor([mask]) }));
    const want = naiveGpt2(weights, GPT2, ids, { mask });
    assertClose(padded.data.subarray(2 * 40), want.slice(2).flat(), { rtol: 1e-9, atol: 1e-10 });
    const positions = [1, 1, 0, 1, 2];
    const given = noGrad(() =>
      model.forward(intTensor([ids]), {
        attentionMask: intTensor([mask]),
        positionIds: intTensor([positions]),
      }),
    );
    assertClose(
      given.data.subarray(2 * 40),
      naiveGpt2(weights, GPT2, ids, { mask, positions }).slice(2).flat(),
      {
        rtol: 1e-9,
        atol: 1e-10,
      },
    );
  });
  it("loads OpenAI-style names, saves HF's, and generates the same with and without the KV cache", () => {
    const model = loadModel(writeFolder(tmp(), GPT2, randomTensors(gpt2Shapes(), 1, 0.3))) as Gpt2LMHeadModel;
    const out = tmp();
    saveModel(model, out);
    const saved = loadSafetensors(join(out, "model.safetensors"));
    assert.ok(saved.has("transformer.h.0.attn.c_attn.weight") && !saved.has("lm_head.weight"));
    const again = loadModel(out) as Gpt2LMHeadModel;
    const x = intTensor([
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
    const x = intTensor([[1, 2, 3, 4]]);
    const before = noGrad(() => peft.forward(x));
    assert.notDeepEqual(before.toArray(), noGrad(() => peft.disableAdapter(() => peft.forward(x))).toArray());
    const merged = peft.mergeAndUnload();
    assertClose(noGrad(() => merged.forward(x)).data, before.data, { rtol: 1e-9, atol: 1e-10 });
  });
});

describe("BERT and RoBERTa", () => {
  for (const flavor of ["bert", "roberta"] as const) {
    it(`${flavor}: classification matches transformers' equations, in eval and, with its dropout, in training`, () => {
      const config = {
        ...bertConfig(flavor, "ForSequenceClassification"),
        hidden_act: "gelu_new",
        hidden_dropout_prob: 0.2,
        attention_probs_dropout_prob: 0.3,
        classifier_dropout: flavor === "bert" ? null : 0.25,
      };
      const weights = randomTensors(bertShapes(flavor, "ForSequenceClassification"), 4, 0.3);
      const model = loadModel(writeFolder(tmp(), config, weights), { dtype: "float64" });
      const ids = [2, 5, 9, 4, 3];
      const forward = (): Float64Array => noGrad(() => model.forward(intTensor([ids]))).data as Float64Array;
      const tight = { rtol: 1e-9, atol: 1e-10 };
      const plain = naiveBertClassifier(weights, config, ids);
      assertClose(forward(), plain, { ...tight, what: "eval" });
      model.train();
      seedDropout(model, 5);
      const body = `${flavor}.encoder.layer`;
      const drop = dropMasksOf(model, ids.length, (l) => `${body}.${l}.attention.self.dropout`, [
        "dropout",
        "classifier.dropout",
      ]);
      const trained = forward();
      assertClose(trained, naiveBertClassifier(weights, config, ids, drop), { ...tight, what: "training" });
      assert.ok(
        trained.some((v, i) => Math.abs(v - plain[i]) > 1e-3),
        "dropout changed nothing",
      );
    });

    it(`${flavor}: classification loads, round-trips and takes adapters on query/value`, () => {
      const config = bertConfig(flavor, "ForSequenceClassification");
      const dir = writeFolder(
        tmp(),
        config,
        randomTensors(bertShapes(flavor, "ForSequenceClassification"), 3),
      );
      const model = loadModel(dir, { dtype: "float64" }) as BertForSequenceClassification;
      const x = intTensor([[2, 5, 9, 4, 3]]);
      const logits = noGrad(() => model.forward(x));
      assert.deepEqual(logits.shape, [1, 3]);
      const out = tmp();
      saveModel(model, out);
      const original = loadSafetensors(join(dir, "model.safetensors"));
      const saved = loadSafetensors(join(out, "model.safetensors"));
      assert.deepEqual([...saved.keys()].sort(), [...original.keys()].sort());
      assert.deepEqual(
        noGrad(() =>
          (loadModel(out, { dtype: "float64" }) as BertForSequenceClassification).forward(x),
        ).toArray(),
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
      const encoder = loadModel(dir, { dtype: "float64" }) as BertModel;
      const pad = flavor === "bert" ? 0 : 1;
      const alone = noGrad(() => encoder.forward(intTensor([[2, 5, 9]])));
      const padded = noGrad(() =>
        encoder.forward(intTensor([[2, 5, 9, pad, pad]]), { attentionMask: intTensor([[1, 1, 1, 0, 0]]) }),
      );
      assertClose(padded.data.subarray(0, 3 * 16), alone.data, { rtol: 1e-9, atol: 1e-10 });
      const warnings: string[] = [];
      const cls = bertConfig(flavor, "ForSequenceClassification");
      const classifier = loadModel(writeFolder(dir, cls, randomTensors(bertShapes(flavor, "Model"), 4)), {
        warn: (m) => warnings.push(m),
      });
      assert.match(warnings.join("\n"), /classifier\..* initialised fresh/);
      assert.deepEqual(
        noGrad(() => (classifier as BertForSequenceClassification).forward(intTensor([[2, 5, 9]]))).shape,
        [1, 3],
      );
    });
  }
});

describe("gradients through the models' dropout match float64 finite differences", () => {
  // The masks are fixed by reseeding before every forward, so the loss is a smooth function of the weights.
  const check = (config: Record<string, unknown>, weights: Weights, names: string[]): void => {
    const model = loadModel(writeFolder(tmp(), config, weights), { dtype: "float64" }).train();
    const params = new Map(model.namedParameters());
    const ids = intTensor([[2, 5, 9, 4, 3, 7]]);
    gradCheck(
      () => {
        seedDropout(model, 9);
        return model.forward(ids);
      },
      names.map((n) => params.get(n)!),
    );
  };

  it("GPT-2 (embd_pdrop, attn_pdrop, resid_pdrop)", () =>
    check(
      { ...GPT2, embd_pdrop: 0.2, attn_pdrop: 0.3, resid_pdrop: 0.25 },
      randomTensors(gpt2Shapes(), 5, 0.3),
      ["transformer.h.0.ln_1.weight", "transformer.h.0.attn.c_attn.bias", "transformer.h.1.mlp.c_proj.bias"],
    ));

  for (const flavor of ["bert", "roberta"] as const)
    it(`${flavor} classifier (hidden, attention probabilities, classifier)`, () =>
      check(
        {
          ...bertConfig(flavor, "ForSequenceClassification"),
          hidden_dropout_prob: 0.2,
          attention_probs_dropout_prob: 0.3,
        },
        randomTensors(bertShapes(flavor, "ForSequenceClassification"), 4, 0.3),
        [
          `${flavor}.embeddings.LayerNorm.weight`,
          `${flavor}.encoder.layer.0.attention.self.query.bias`,
          `${flavor}.encoder.layer.1.output.dense.bias`,
          flavor === "bert" ? "classifier.bias" : "classifier.dense.bias",
        ],
      ));
});
