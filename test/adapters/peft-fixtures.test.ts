import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AdapterLayer, PeftModel } from "../../src/adapters/index.js";
import { loadSafetensors } from "../../src/io/index.js";
import type { Linear } from "../../src/nn/index.js";
import * as T from "../../src/tensor/index.js";
import { peftFixturesDir } from "../fixtures.js";
import { assertClose } from "../helpers.js";
import { SingleLinear } from "../support/single-linear.js";
import { TinyDecoder } from "../support/tiny-decoder.js";

const root = peftFixturesDir();
const skip = !existsSync(root) && !process.env.CI ? `no fixtures at ${root}` : false;
const TOL = { rtol: 1e-5, atol: 1e-5 };

function baseDecoder(): TinyDecoder {
  const dir = join(root, "base_model");
  const model = new TinyDecoder(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")));
  model.loadStateDict(loadSafetensors(join(dir, "model.safetensors")));
  return model;
}

const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, "utf8"));

describe("PEFT fixtures", { skip }, () => {
  for (const name of ["a_lora_r8_qv", "d_dora", "e_loha_r4"]) {
    describe(name, () => {
      const dir = join(root, name);
      const ids = () => loadSafetensors(join(dir, "inputs.safetensors")).get("input_ids")!;
      const outputs = () => loadSafetensors(join(dir, "outputs.safetensors"));

      it("outputs with the adapter on, off and merged, and the merged weights, match PEFT", () => {
        const peft = PeftModel.load(baseDecoder(), join(dir, "adapter"));
        const want = outputs();
        assertClose(peft.forward(ids()).data, want.get("out_adapter")!.data, { ...TOL, what: "out_adapter" });
        assertClose(peft.disableAdapter(() => peft.forward(ids())).data, want.get("out_base")!.data, {
          ...TOL,
          what: "out_base",
        });
        const merged = peft.mergeAndUnload();
        assertClose(merged.forward(ids()).data, want.get("out_merged")!.data, { ...TOL, what: "out_merged" });
        const expected = loadSafetensors(join(dir, "merged.safetensors"));
        const state = merged.stateDict();
        assert.deepEqual([...state.keys()].sort(), [...expected.keys()].sort());
        for (const [key, t] of expected) assertClose(state.get(key)!.data, t.data, { ...TOL, what: key });
      });

      it("float64 outputs match PEFT's float64 run", () => {
        const peft = PeftModel.load(baseDecoder().toDType("float64"), join(dir, "adapter"));
        assertClose(peft.forward(ids()).data, outputs().get("out_adapter_f64")!.data, {
          rtol: 1e-9,
          atol: 1e-9,
        });
      });

      it("each adapted module matches PEFT's input/output", () => {
        const peft = PeftModel.load(baseDecoder(), join(dir, "adapter"));
        const io = loadSafetensors(join(dir, "module_io.safetensors"));
        const modules = [...io.keys()]
          .filter((k) => k.endsWith(".input"))
          .map((k) => k.slice(0, -".input".length));
        assert.ok(modules.length > 0);
        assert.deepEqual(
          modules.sort(),
          peft
            .layers()
            .map(([p]) => p)
            .sort(),
        );
        for (const m of modules) {
          const layer = peft.model.getSubmodule(m) as AdapterLayer;
          const x = io.get(`${m}.input`)!;
          assertClose(layer.forward(x).data, io.get(`${m}.out_adapter`)!.data, {
            ...TOL,
            what: `${m} adapter`,
          });
          const base = (layer.base as Linear).forward(x);
          assertClose(base.data, io.get(`${m}.out_base_layer`)!.data, { ...TOL, what: `${m} base` });
        }
      });

      it("a re-saved adapter has PEFT's tensor names, shapes and config values", () => {
        const peft = PeftModel.load(baseDecoder(), join(dir, "adapter"));
        const out = mkdtempSync(join(tmpdir(), "morelora-resave-"));
        peft.save(out);
        const theirs = loadSafetensors(join(dir, "adapter", "adapter_model.safetensors"));
        const ours = loadSafetensors(join(out, "adapter_model.safetensors"));
        assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
        for (const [k, t] of theirs) {
          assert.deepEqual(ours.get(k)!.shape, t.shape, k);
          assert.deepEqual(ours.get(k)!.toArray(), t.toArray(), k);
        }
        const theirConfig = json(join(dir, "adapter", "adapter_config.json"));
        const ourConfig = json(join(out, "adapter_config.json"));
        const informational = new Set([
          "auto_mapping",
          "base_model_name_or_path",
          "peft_version",
          "fan_in_fan_out",
        ]);
        assert.deepEqual(Object.keys(ourConfig).sort(), Object.keys(theirConfig).sort());
        for (const [k, v] of Object.entries(theirConfig)) {
          if (informational.has(k)) continue;
          const norm = (x: unknown): unknown => (Array.isArray(x) ? [...x].sort() : x);
          assert.deepEqual(norm(ourConfig[k]), norm(v), `config field ${k}`);
        }
      });
    });
  }

  for (const name of ["grad_lora_linear", "grad_dora_linear"]) {
    it(`${name}: gradients match PEFT's`, () => {
      const dir = join(root, name);
      const config = json(join(dir, "base_model", "config.json")) as {
        in_features: number;
        out_features: number;
      };
      for (const [dtype, gradFile, tol] of [
        ["float32", "grads.safetensors", TOL],
        ["float64", "grads_f64.safetensors", { rtol: 1e-9, atol: 1e-9 }],
      ] as const) {
        const model = new SingleLinear(config.in_features, config.out_features);
        model.loadStateDict(loadSafetensors(join(dir, "base_model", "model.safetensors")));
        model.toDType(dtype);
        const peft = PeftModel.load(model, join(dir, "adapter"));
        const inputs = loadSafetensors(join(dir, "inputs.safetensors"));
        const x = inputs.get("x")!.to(dtype).requireGrad();
        const out = peft.forward(x);
        if (dtype === "float32")
          assertClose(out.data, loadSafetensors(join(dir, "outputs.safetensors")).get("out")!.data, TOL);
        T.sum(T.mul(out, inputs.get("G")!.to(dtype))).backward();
        const grads = loadSafetensors(join(dir, gradFile));
        const params = new Map(peft.trainableParameters());
        for (const [key, want] of grads) {
          const param = key
            .slice("grad.".length)
            .replace("lora_magnitude_vector.default.weight", "lora_magnitude_vector.default");
          const got = key === "grad.x" ? x.grad : params.get(param)?.grad;
          assert.ok(got, `no gradient for ${key} (have ${[...params.keys()].join(", ")})`);
          assertClose(got.data, want.data, { ...tol, what: `${dtype} ${key}` });
        }
      }
    });
  }
});
