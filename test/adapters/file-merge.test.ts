import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { getPeftModel } from "../../src/adapters/index.js";
import { mergeAdapterFolder } from "../../src/adapters/index.js";
import { loadSafetensors, saveSafetensors } from "../../src/io/index.js";
import { peftFixturesDir, repoRoot } from "../fixtures.js";
import { assertClose } from "../helpers.js";
import { methodNamed } from "../../src/adapters/methods/index.js";
import { buildModel, loadModel, saveModel } from "../../src/models/hf.js";
import * as T from "../../src/tensor/index.js";
import { Generator, noGrad } from "../../src/tensor/index.js";
import { CASES, IDS, logits, perturb, smallDecoder } from "./support.js";

const root = peftFixturesDir();
const skip = !existsSync(root) && !process.env.CI ? `no fixtures at ${root}` : false;
const cli = join(repoRoot(), "build", "src", "cli", "main.js");
const tmp = (): string => mkdtempSync(join(tmpdir(), "morelora-merge-"));

describe("morelora merge", () => {
  for (const name of ["a_lora_r8_qv", "d_dora", "e_loha_r4"]) {
    it(`reproduces PEFT's merged weights for ${name}`, { skip }, () => {
      const out = join(tmp(), "merged");
      execFileSync("node", [
        cli,
        "merge",
        "--base",
        join(root, "base_model"),
        "--adapter",
        join(root, name, "adapter"),
        "--out",
        out,
      ]);
      const got = loadSafetensors(join(out, "model.safetensors"));
      const want = loadSafetensors(join(root, name, "merged.safetensors"));
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
      for (const [k, t] of want) assertClose(got.get(k)!.data, t.data, { rtol: 1e-5, atol: 1e-5, what: k });
      assert.equal(
        readFileSync(join(out, "config.json"), "utf8"),
        readFileSync(join(root, "base_model", "config.json"), "utf8"),
      );
    });
  }

  it("merges every method at the file level exactly as the model-level merge", () => {
    for (const { label, config } of CASES) {
      const base = tmp();
      const model = smallDecoder();
      saveSafetensors(join(base, "model.safetensors"), model.stateDict());
      writeFileSync(join(base, "config.json"), "{}");
      const peft = getPeftModel(model, {
        r: 4,
        alpha: 8,
        targetModules: [
          "q_proj",
          "gate_proj",
          "down_proj",
          ...(config.method === "lora" || config.method === "dora" ? ["embed_tokens"] : []),
        ],
        ...config,
      });
      perturb(peft);
      const adapter = join(base, "adapter");
      peft.save(adapter);
      const out = join(base, "out");
      mergeAdapterFolder(base, adapter, out);
      const want = logits(peft);
      const merged = smallDecoder();
      merged.loadStateDict(loadSafetensors(join(out, "model.safetensors")));
      assertClose(noGrad(() => merged.forward(IDS)).data, want.data, {
        rtol: 1e-9,
        atol: 1e-10,
        what: label,
      });
    }
  });

  it("merges every method on GPT-2's Conv1D layers (square ones too); PEFT types only where PEFT loads them", () => {
    const gpt2 = {
      architectures: ["GPT2LMHeadModel"],
      model_type: "gpt2",
      vocab_size: 24,
      n_positions: 16,
      n_embd: 8,
      n_layer: 1,
      n_head: 2,
    };
    const ids = T.tensor([[1, 5, 2, 9, 3]], { dtype: "int32" });
    for (const { label, config } of CASES) {
      if (!methodNamed(config.method ?? "lora").layers.includes("conv1d")) continue;
      const model = buildModel(gpt2, { dtype: "float64" }).eval();
      const rng = new Generator(4);
      noGrad(() => {
        for (const t of model.parameters()) for (let i = 0; i < t.size; i++) t.data[i] = rng.normal(0, 0.3);
      });
      const base = tmp();
      saveModel(model, base);
      // c_attn is [8, 24]; c_proj [8, 8] is square, so only fan_in_fan_out tells its layout.
      const peft = getPeftModel(model, {
        r: 4,
        alpha: 8,
        targetModules: ["c_attn", "attn.c_proj"],
        ...config,
      });
      perturb(peft);
      const adapter = join(base, "adapter");
      peft.save(adapter);
      const written = JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8"));
      if (config.method === "loha")
        assert.equal(written.peft_type, "MORELORA_LOHA", "PEFT's LoHa cannot load Conv1D");
      assert.equal(written.fan_in_fan_out, true, label);
      const want = noGrad(() => peft.forward(ids));
      const out = join(base, "out");
      mergeAdapterFolder(base, adapter, out);
      const merged = loadModel(out, { dtype: "float64" }) as unknown as { forward(x: T.Tensor): T.Tensor };
      assertClose(noGrad(() => merged.forward(ids)).data, want.data, {
        rtol: 1e-9,
        atol: 1e-10,
        what: label,
      });
    }
  });

  it(
    "reads a sharded base, refuses to overwrite it, and needs fan_in_fan_out for square weights",
    { skip },
    () => {
      const base = tmp();
      const weights = loadSafetensors(join(root, "base_model", "model.safetensors"));
      const names = [...weights.keys()];
      const half = Math.floor(names.length / 2);
      saveSafetensors(
        join(base, "a.safetensors"),
        new Map(names.slice(0, half).map((n) => [n, weights.get(n)!])),
      );
      saveSafetensors(
        join(base, "b.safetensors"),
        new Map(names.slice(half).map((n) => [n, weights.get(n)!])),
      );
      const weightMap = Object.fromEntries(
        names.map((n, i) => [n, i < half ? "a.safetensors" : "b.safetensors"]),
      );
      writeFileSync(
        join(base, "model.safetensors.index.json"),
        JSON.stringify({ metadata: {}, weight_map: weightMap }),
      );
      const out = join(tmp(), "o");
      mergeAdapterFolder(base, join(root, "a_lora_r8_qv", "adapter"), out);
      const want = loadSafetensors(join(root, "a_lora_r8_qv", "merged.safetensors"));
      const got = loadSafetensors(join(out, "model.safetensors"));
      for (const [k, t] of want) assertClose(got.get(k)!.data, t.data, { rtol: 1e-5, atol: 1e-5, what: k });

      const run = (...args: string[]) => spawnSync("node", [cli, "merge", ...args], { encoding: "utf8" });
      const refused = run("--base", base, "--adapter", join(root, "a_lora_r8_qv", "adapter"), "--out", base);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /never overwrites the base/);

      const adapter = join(tmp(), "adapter");
      cpSync(join(root, "a_lora_r8_qv", "adapter"), adapter, { recursive: true });
      const config = JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8"));
      delete config.fan_in_fan_out;
      writeFileSync(join(adapter, "adapter_config.json"), JSON.stringify(config));
      const ambiguous = run("--base", base, "--adapter", adapter, "--out", join(tmp(), "x"));
      assert.equal(ambiguous.status, 1);
      assert.match(ambiguous.stderr, /self_attn\.q_proj: its weight \[16, 16\] is square.*"fan_in_fan_out"/);
      assert.doesNotMatch(ambiguous.stderr, /\n\s+at /, "no stack trace");
    },
  );
});

describe("morelora inspect", () => {
  it("summarises adapters, model folders and safetensors files, as tables or JSON", { skip }, () => {
    const adapter = JSON.parse(
      execFileSync("node", [cli, "inspect", join(root, "e_loha_r4", "adapter"), "--json"], {
        encoding: "utf8",
      }),
    );
    assert.equal(adapter.method, "loha");
    assert.equal(adapter.modules.length, 8);
    assert.equal(adapter.totalParameters, 6 * 2 * 4 * (16 + 16) + 2 * 2 * 4 * (24 + 16));
    const text = execFileSync("node", [cli, "inspect", join(root, "base_model")], { encoding: "utf8" });
    assert.match(text, /31 tensors \(F32 ×31\), 5,648 params/);
    const file = JSON.parse(
      execFileSync("node", [cli, "inspect", join(root, "base_model", "model.safetensors"), "--json"], {
        encoding: "utf8",
      }),
    );
    assert.equal(file.tensors.length, 31);
  });

  it("gives one clear line and exit code 1 on a malformed input", () => {
    const dir = tmp();
    const bad = join(dir, "bad.safetensors");
    writeFileSync(bad, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0x7b]));
    const r = spawnSync("node", [cli, "inspect", bad], { encoding: "utf8" });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.match(r.stderr, /bad\.safetensors: /);
    writeFileSync(join(dir, "adapter_config.json"), "{ nope");
    const r2 = spawnSync("node", [cli, "inspect", dir], { encoding: "utf8" });
    assert.equal(r2.status, 1);
    assert.match(r2.stderr, /adapter_config\.json: invalid JSON/);
  });
});
