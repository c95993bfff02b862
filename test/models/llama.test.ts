import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import erf from "@stdlib/math-base-special-erf";
import { getPeftModel } from "../../src/adapters/index.js";
import { loadSafetensors } from "../../src/io/index.js";
import { generate } from "../../src/models/generate.js";
import { loadModel, saveModel } from "../../src/models/hf.js";
import { LlamaForCausalLM } from "../../src/models/llama.js";
import * as T from "../../src/tensor/index.js";
import { noGrad, type Tensor } from "../../src/tensor/index.js";
import { assertClose } from "../helpers.js";
import { LLAMA_CONFIG, llamaShapes, randomTensors, writeFolder } from "../support/hf-folders.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "morelora-llama-"));
const IDS = T.tensor(
  [
    [3, 17, 5, 40, 9, 22],
    [11, 2, 33, 7, 0, 46],
  ],
  { dtype: "int32" },
);

type Weights = Map<string, Tensor>;
const get = (w: Weights, name: string): number[] => Array.from(w.get(name)!.data);

/** y = x Wᵀ (+ b) for one row, with W [out, in] as a flat array. */
function linear(x: number[], w: number[], out: number, b?: number[]): number[] {
  const n = x.length;
  return Array.from({ length: out }, (_, o) => x.reduce((s, xi, i) => s + xi * w[o * n + i], b ? b[o] : 0));
}
const rms = (x: number[], w: number[], eps: number): number[] => {
  const r = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length + eps);
  return x.map((v, i) => v * r * w[i]);
};
const silu = (v: number): number => v / (1 + Math.exp(-v));

/**
 * A one-layer Llama written out with loops, straight from the HF modeling code's math, with the
 * MLP activation, the positions (transformers' default 0..T−1) and the sliding window (a query sees
 * key s when t − window < s ≤ t, transformers' sliding_window_overlay) as arguments; q/k/v biases
 * (Qwen2) when the weights have them.
 */
function naiveLlama(
  w: Weights,
  c: typeof LLAMA_CONFIG,
  ids: number[],
  {
    act = silu,
    positions = ids.map((_, t) => t),
    window = Number.POSITIVE_INFINITY,
  }: { act?: (v: number) => number; positions?: number[]; window?: number } = {},
): number[][] {
  const d = c.hidden_size;
  const h = c.num_attention_heads;
  const kvh = c.num_key_value_heads;
  const hd = d / h;
  const emb = get(w, "model.embed_tokens.weight");
  const xs = ids.map((id) => emb.slice(id * d, (id + 1) * d));
  const p = "model.layers.0";
  const normed = xs.map((x) => rms(x, get(w, `${p}.input_layernorm.weight`), c.rms_norm_eps));
  const rope = (v: number[], pos: number): number[] => {
    const out = [...v];
    for (let head = 0; head < v.length / hd; head++) {
      for (let i = 0; i < hd / 2; i++) {
        const angle = pos / c.rope_theta ** ((2 * i) / hd);
        const [a, b] = [v[head * hd + i], v[head * hd + i + hd / 2]];
        out[head * hd + i] = a * Math.cos(angle) - b * Math.sin(angle);
        out[head * hd + i + hd / 2] = b * Math.cos(angle) + a * Math.sin(angle);
      }
    }
    return out;
  };
  const proj = (name: string, x: number[], out: number): number[] => {
    const bias = `${p}.self_attn.${name}.bias`;
    return linear(x, get(w, `${p}.self_attn.${name}.weight`), out, w.has(bias) ? get(w, bias) : undefined);
  };
  const q = normed.map((x, t) => rope(proj("q_proj", x, d), positions[t]));
  const k = normed.map((x, t) => rope(proj("k_proj", x, kvh * hd), positions[t]));
  const v = normed.map((x) => proj("v_proj", x, kvh * hd));
  const att = xs.map((_, t) => {
    const out = new Array<number>(d).fill(0);
    for (let head = 0; head < h; head++) {
      const kv = Math.floor(head / (h / kvh));
      const first = Math.max(0, t - window + 1);
      const scores = Array.from({ length: t + 1 - first }, (_, s) => {
        let dot = 0;
        for (let i = 0; i < hd; i++) dot += q[t][head * hd + i] * k[first + s][kv * hd + i];
        return dot / Math.sqrt(hd);
      });
      const top = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - top));
      const z = e.reduce((a, b) => a + b, 0);
      for (let s = 0; s < e.length; s++)
        for (let i = 0; i < hd; i++) out[head * hd + i] += (e[s] / z) * v[first + s][kv * hd + i];
    }
    return out;
  });
  return xs.map((x, t) => {
    const h1 = x.map((xi, i) => xi + linear(att[t], get(w, `${p}.self_attn.o_proj.weight`), d)[i]);
    const n2 = rms(h1, get(w, `${p}.post_attention_layernorm.weight`), c.rms_norm_eps);
    const g = linear(n2, get(w, `${p}.mlp.gate_proj.weight`), c.intermediate_size);
    const u = linear(n2, get(w, `${p}.mlp.up_proj.weight`), c.intermediate_size);
    const mlp = linear(
      g.map((gi, i) => act(gi) * u[i]),
      get(w, `${p}.mlp.down_proj.weight`),
      d,
    );
    const h2 = h1.map((hi, i) => hi + mlp[i]);
    return linear(
      rms(h2, get(w, "model.norm.weight"), c.rms_norm_eps),
      get(w, "lm_head.weight"),
      c.vocab_size,
    );
  });
}

describe("Llama family", () => {
  it("a one-layer Llama with GQA matches a naive computation", () => {
    const config = { ...LLAMA_CONFIG, num_hidden_layers: 1 };
    const weights = randomTensors(llamaShapes(config), 1);
    const model = loadModel(writeFolder(tmp(), config, weights), { dtype: "float64" });
    const ids = [3, 17, 5, 40, 9];
    const logits = noGrad(() => (model as LlamaForCausalLM).forward(T.tensor([ids], { dtype: "int32" })));
    assertClose(logits.data, naiveLlama(weights, config, ids).flat(), { rtol: 1e-9, atol: 1e-10 });
  });

  it("applies hidden_act by transformers' ACT2FN names and refuses one it lacks", () => {
    const acts: Record<string, (v: number) => number> = {
      gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
      gelu_pytorch_tanh: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
      relu: (v) => Math.max(v, 0),
      quick_gelu: (v) => v / (1 + Math.exp(-1.702 * v)),
      swish: silu,
    };
    const ids = [3, 17, 5, 40, 9];
    for (const [name, act] of Object.entries(acts)) {
      const config = { ...LLAMA_CONFIG, num_hidden_layers: 1, hidden_act: name };
      const weights = randomTensors(llamaShapes(config), 11, 0.5);
      const model = loadModel(writeFolder(tmp(), config, weights), { dtype: "float64" }) as LlamaForCausalLM;
      const logits = noGrad(() => model.forward(T.tensor([ids], { dtype: "int32" })));
      assertClose(logits.data, naiveLlama(weights, config, ids, { act }).flat(), {
        rtol: 1e-9,
        atol: 1e-10,
        what: name,
      });
    }
    const config = { ...LLAMA_CONFIG, hidden_act: "mish" };
    const dir = writeFolder(tmp(), config, randomTensors(llamaShapes(config), 11));
    assert.throws(
      () => loadModel(dir),
      /config\.json: "hidden_act" must name an activation morelora implements/,
    );
  });

  it("takes positionIds like transformers' forward; left padding does not shift the default", () => {
    const config = { ...LLAMA_CONFIG, num_hidden_layers: 1 };
    const weights = randomTensors(llamaShapes(config), 12, 0.5);
    const model = loadModel(writeFolder(tmp(), config, weights), { dtype: "float64" }) as LlamaForCausalLM;
    const ids = [3, 17, 5, 40];
    // Not evenly spaced: RoPE sees only differences, so a shifted 0..T−1 would prove nothing.
    const positions = [0, 2, 3, 7];
    const logits = noGrad(() =>
      model.forward(T.tensor([ids], { dtype: "int32" }), {
        positionIds: T.tensor([positions], { dtype: "int32" }),
      }),
    );
    assertClose(logits.data, naiveLlama(weights, config, ids, { positions }).flat(), {
      rtol: 1e-9,
      atol: 1e-10,
    });
    assert.throws(
      () =>
        model.forward(T.tensor([ids], { dtype: "int32" }), {
          positionIds: T.tensor([[0, 1]], { dtype: "int32" }),
        }),
      /positionIds must have shape \[1, 4\], got \[1, 2\]/,
    );
  });

  it("loads, saves and loads again to identical tensors and outputs (tied and untied, Qwen2 biases)", () => {
    for (const config of [
      LLAMA_CONFIG,
      { ...LLAMA_CONFIG, tie_word_embeddings: true },
      {
        ...LLAMA_CONFIG,
        architectures: ["Qwen2ForCausalLM"],
        model_type: "qwen2",
        tie_word_embeddings: true,
      },
      {
        ...LLAMA_CONFIG,
        rope_scaling: {
          rope_type: "llama3",
          factor: 8,
          low_freq_factor: 1,
          high_freq_factor: 4,
          original_max_position_embeddings: 16,
        },
      },
    ]) {
      const dir = writeFolder(
        tmp(),
        config,
        randomTensors(llamaShapes(config, config.model_type === "qwen2"), 2),
      );
      const model = loadModel(dir) as LlamaForCausalLM;
      const out = tmp();
      saveModel(model, out);
      const saved = loadSafetensors(join(out, "model.safetensors"));
      const original = loadSafetensors(join(dir, "model.safetensors"));
      assert.deepEqual([...saved.keys()].sort(), [...original.keys()].sort());
      for (const [k, t] of original) assert.deepEqual(saved.get(k)!.toArray(), t.toArray(), k);
      const again = loadModel(out) as LlamaForCausalLM;
      assert.deepEqual(
        noGrad(() => again.forward(IDS)).toArray(),
        noGrad(() => model.forward(IDS)).toArray(),
      );
    }
  });

  it("keeps tied embeddings tied through a dtype change", () => {
    const config = { ...LLAMA_CONFIG, tie_word_embeddings: true };
    const model = loadModel(writeFolder(tmp(), config, randomTensors(llamaShapes(config), 8))).toDType(
      "float64",
    ) as LlamaForCausalLM;
    assert.equal(
      model.getSubmodule("lm_head").param("weight"),
      model.getSubmodule("model.embed_tokens").param("weight"),
    );
  });

  it("names the problem in a bad folder", () => {
    const dir = writeFolder(tmp(), LLAMA_CONFIG, randomTensors(llamaShapes(LLAMA_CONFIG), 3));
    const shapes = llamaShapes(LLAMA_CONFIG);
    delete shapes["model.layers.1.mlp.up_proj.weight"];
    writeFolder(dir, LLAMA_CONFIG, randomTensors(shapes, 3));
    assert.throws(() => loadModel(dir), /lacks model\.layers\.1\.mlp\.up_proj\.weight/);
    writeFolder(dir, { ...LLAMA_CONFIG, intermediate_size: 41 }, randomTensors(llamaShapes(LLAMA_CONFIG), 3));
    assert.throws(
      () => loadModel(dir),
      /"model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[40, 16\], the config needs \[41, 16\]/,
    );
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ ...LLAMA_CONFIG, architectures: ["FalconForCausalLM"] }),
    );
    assert.throws(() => loadModel(dir), /architecture FalconForCausalLM is not supported/);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...LLAMA_CONFIG, hidden_size: "16" }));
    assert.throws(
      () => loadModel(dir),
      /config\.json: "hidden_size" must be a non-negative integer, got "16"/,
    );
  });

  it("KV-cache generation equals full recomputation, with an adapter active or merged", () => {
    const dir = writeFolder(tmp(), LLAMA_CONFIG, randomTensors(llamaShapes(LLAMA_CONFIG), 4, 0.5));
    const model = loadModel(dir) as LlamaForCausalLM;
    const prompt = [3, 17, 5];
    for (const options of [{}, { temperature: 0.8, topK: 10, topP: 0.9, seed: 5 }]) {
      const cached = generate(model, prompt, { maxNewTokens: 12, ...options });
      assert.equal(cached.length, 12);
      assert.deepEqual(generate(model, prompt, { maxNewTokens: 12, useCache: false, ...options }), cached);
    }
    const peft = getPeftModel(model, {
      targetModules: ["q_proj", "v_proj"],
      r: 4,
      alpha: 8,
      init: "gaussian",
    });
    noGrad(() => {
      for (const [, t] of peft.trainableParameters())
        for (let i = 0; i < t.size; i++) t.data[i] = Math.sin(i + t.size) * 0.5;
    });
    const logitsBefore = noGrad(() => peft.forward(IDS));
    const active = generate(model, prompt, { maxNewTokens: 12 });
    assert.deepEqual(generate(model, prompt, { maxNewTokens: 12, useCache: false }), active);
    peft.merge();
    assertClose(noGrad(() => peft.forward(IDS)).data, logitsBefore.data, { rtol: 1e-4, atol: 1e-5 });
    assert.deepEqual(generate(model, prompt, { maxNewTokens: 12 }), active);
  });

  it("sliding window as transformers: Mistral's on every layer, Qwen2's from max_window_layers on, cache past the window", () => {
    const one = { ...LLAMA_CONFIG, num_hidden_layers: 1 };
    const mistral = { ...one, architectures: ["MistralForCausalLM"], model_type: "mistral" };
    const qwen2 = { ...one, architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", sliding_window: 3 };
    const cases: [Record<string, unknown>, number][] = [
      [{ ...mistral, sliding_window: 3 }, 3],
      [{ ...mistral, sliding_window: null }, Number.POSITIVE_INFINITY],
      [{ ...qwen2, use_sliding_window: true, max_window_layers: 0 }, 3],
      [{ ...qwen2, use_sliding_window: true, max_window_layers: 1 }, Number.POSITIVE_INFINITY],
      [{ ...qwen2, use_sliding_window: true, layer_types: ["sliding_attention"] }, 3],
      [{ ...qwen2, use_sliding_window: false, max_window_layers: 0 }, Number.POSITIVE_INFINITY],
    ];
    const ids = [3, 17, 5, 40, 9, 22, 8, 30]; // longer than the window
    for (const [config, window] of cases) {
      const weights = randomTensors(llamaShapes(one, config.model_type === "qwen2"), 8);
      const model = loadModel(writeFolder(tmp(), config, weights), { dtype: "float64" }) as LlamaForCausalLM;
      const what = JSON.stringify(config).slice(-80);
      const full = noGrad(() => model.forward(T.tensor([ids], { dtype: "int32" })));
      assertClose(full.data, naiveLlama(weights, one, ids, { window }).flat(), {
        rtol: 1e-9,
        atol: 1e-10,
        what,
      });
      // Token by token through the KV cache, past the window: the same logits.
      const cache = model.newCache();
      const steps = noGrad(() =>
        ids.map((id) => model.forward(T.tensor([[id]], { dtype: "int32" }), { cache }).toArray()),
      );
      assertClose(steps.flat(), full.data, { rtol: 1e-9, atol: 1e-10, what: `cached ${what}` });
    }
    const naiveFull = naiveLlama(randomTensors(llamaShapes(one), 8), one, ids).flat();
    const naive3 = naiveLlama(randomTensors(llamaShapes(one), 8), one, ids, { window: 3 }).flat();
    assert.ok(
      Math.abs(naiveFull[ids.length * one.vocab_size - 1] - naive3[ids.length * one.vocab_size - 1]) > 1e-6,
    );
    assert.throws(
      () =>
        loadModel(
          writeFolder(
            tmp(),
            { ...qwen2, use_sliding_window: true, layer_types: ["local"] },
            randomTensors(llamaShapes(one, true), 8),
          ),
        ),
      /"layer_types" must list "full_attention" or "sliding_attention" for each of the 1 layers/,
    );
  });

  it("left padding gives each sequence the logits it has alone", () => {
    const dir = writeFolder(tmp(), LLAMA_CONFIG, randomTensors(llamaShapes(LLAMA_CONFIG), 6, 0.5));
    const model = loadModel(dir, { dtype: "float64" }) as LlamaForCausalLM;
    const alone = noGrad(() => model.forward(T.tensor([[5, 6, 7]], { dtype: "int32" })));
    const padded = noGrad(() =>
      model.forward(
        T.tensor(
          [
            [0, 0, 5, 6, 7],
            [1, 2, 3, 4, 5],
          ],
          { dtype: "int32" },
        ),
        {
          attentionMask: T.tensor(
            [
              [0, 0, 1, 1, 1],
              [1, 1, 1, 1, 1],
            ],
            { dtype: "int32" },
          ),
        },
      ),
    );
    const v = LLAMA_CONFIG.vocab_size;
    assertClose(padded.data.subarray(2 * v, 5 * v), alone.data, { rtol: 1e-9, atol: 1e-10 });
  });
});
