import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AdapterLayer, denseDelta, getPeftModel, methodNamed, PeftModel } from "../../src/adapters/index.js";
import { hadamardDelta } from "../../src/adapters/methods/hadamard-product.js";
import * as T from "../../src/tensor/index.js";
import { Generator, noGrad } from "../../src/tensor/index.js";
import { assertClose, gradCheck } from "../helpers.js";
import { CASES, IDS, logits, perturb, smallDecoder, TARGETS } from "./support.js";

const EXACT = { rtol: 1e-10, atol: 1e-12 };

for (const { label, config } of CASES) {
  describe(`adapter ${label}`, () => {
    const make = (targetModules = TARGETS) =>
      getPeftModel(smallDecoder(), { r: 4, alpha: 8, targetModules, ...config });

    it("leaves the base output unchanged at init", () => {
      const peft = make();
      const base = peft.disableAdapter(() => logits(peft));
      assertClose(logits(peft).data, base.data, { ...EXACT, what: "logits at init" });
    });

    it("has the spec's parameter count", () => {
      const peft = make();
      const method = methodNamed(peft.config().method);
      let expected = 0;
      const sharedTypes = new Map<string, number>();
      for (const [path, layer] of peft.layers()) {
        const { m, n } = layer.view;
        const { r } = layer.adapter("default")!.ctx;
        expected += method.parameterCount(m, n, r, peft.config());
        if (method.sharedParameterCount)
          sharedTypes.set(path.split(".").pop()!, method.sharedParameterCount(m, n, r));
      }
      expected += [...sharedTypes.values()].reduce((a, b) => a + b, 0);
      assert.equal(peft.trainableSummary().trainable, expected);
      assert.ok(expected > 0);
    });

    it("applies its efficient path exactly as W0 + ΔW, merges, unmerges and reloads", () => {
      const peft = make();
      perturb(peft);
      const before = logits(peft);
      assert.ok(
        T.sum(
          T.abs(
            T.sub(
              before,
              peft.disableAdapter(() => logits(peft)),
            ),
          ),
        ).item() > 1e-3,
        "ΔW should be non-zero",
      );
      const x = T.randn([3, 8], new Generator(5), { dtype: "float64" });
      for (const [path, layer] of peft.layers()) {
        if (layer.view.n !== 8) continue;
        const w0 = layer.view.dense();
        noGrad(() => {
          const merged = layer.adapter("default")!.merge(w0).weight;
          const reference = T.matmul(x, merged, { transB: true });
          const want = layer.view.bias ? T.add(reference, layer.view.bias) : reference;
          assertClose(layer.forward(x).data, want.data, { rtol: 1e-9, atol: 1e-10, what: path });
        });
      }
      const weights = peft.layers().map(([, l]) => l.view.dense());
      peft.merge();
      assertClose(logits(peft).data, before.data, { rtol: 1e-9, atol: 1e-10, what: "merged logits" });
      peft.unmerge();
      peft.layers().forEach(([p, l], i) =>
        assertClose(l.view.dense().data, weights[i].data, {
          rtol: 1e-6,
          atol: 1e-6,
          what: `${p} after unmerge`,
        }),
      );
      assertClose(logits(peft).data, before.data, { rtol: 1e-9, atol: 1e-10, what: "unmerged logits" });

      const dir = mkdtempSync(join(tmpdir(), "morelora-adapter-"));
      peft.save(dir);
      const loaded = PeftModel.load(smallDecoder(), dir);
      assert.deepEqual(loaded.config(), peft.config());
      assert.deepEqual(logits(loaded).toArray(), before.toArray());
    });

    it("has float64 gradients equal to finite differences", () => {
      // A square Linear and a non-square Conv1D in both layers keep the check quick.
      const peft = make(["q_proj", "gate_proj"]);
      perturb(peft);
      // DoRA detaches its norm (paper §4.3, PEFT), so only the magnitude's gradient is the true
      // derivative; its A and B gradients are checked against PEFT's fixture instead.
      const params = peft
        .trainableParameters()
        .filter(([name]) => peft.config().method !== "dora" || name.includes("magnitude"))
        .map(([, t]) => t);
      gradCheck(() => peft.forward(IDS), params, { rtol: 1e-5, atol: 1e-7 });
    });
  });
}

describe("Hadamard products", () => {
  it("the face-splitting factorisation equals the dense product", () => {
    const rng = new Generator(2);
    const ps = [T.randn([5, 2], rng, { dtype: "float64" }), T.randn([5, 3], rng, { dtype: "float64" })];
    const qs = [T.randn([2, 7], rng, { dtype: "float64" }), T.randn([3, 7], rng, { dtype: "float64" })];
    const factored = hadamardDelta(ps, qs, 1.5, "none", "factored");
    assert.equal(factored.kind, "low-rank");
    const dense = hadamardDelta(ps, qs, 1.5, "none", "dense");
    assert.equal(dense.kind, "dense");
    assertClose(denseDelta(factored).data, denseDelta(dense).data, EXACT);
    assert.throws(() => hadamardDelta(ps, qs, 1, "tanh", "factored"), /no factored form/);
  });
});

describe("adapters on embeddings", () => {
  for (const method of ["lora", "dora"] as const) {
    it(`${method} on an Embedding: zero at init, merge equals forward, reload`, () => {
      const peft = getPeftModel(smallDecoder(), {
        method,
        r: 3,
        alpha: 6,
        targetModules: ["embed_tokens", "q_proj"],
      });
      const layer = peft.model.getSubmodule("model.embed_tokens") as AdapterLayer;
      assert.equal(layer.view.kind, "embedding");
      assert.ok(layer.adapter("default")!.tensors.has("lora_embedding_A"));
      const base = peft.disableAdapter(() => logits(peft));
      assertClose(logits(peft).data, base.data, EXACT);
      perturb(peft);
      const before = logits(peft);
      peft.merge();
      assertClose(logits(peft).data, before.data, { rtol: 1e-9, atol: 1e-10 });
      peft.unmerge();
      const dir = mkdtempSync(join(tmpdir(), "morelora-embed-"));
      peft.save(dir);
      assert.deepEqual(logits(PeftModel.load(smallDecoder(), dir)).toArray(), before.toArray());
    });
  }
});
