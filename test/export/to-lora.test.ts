import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { getPeftModel, PeftModel } from "../../src/adapters/index.js";
import { convertToLora } from "../../src/export/index.js";
import { truncatedSvd } from "../../src/export/svd.js";
import { loadModel } from "../../src/models/index.js";
import { Generator, noGrad, tensor } from "../../src/tensor/index.js";
import { repoRoot } from "../fixtures.js";
import { assertClose } from "../helpers.js";
import {
  GPT2_CONFIG,
  gpt2Shapes,
  randomTensors,
  tinyLlamaFolder,
  writeFolder,
} from "../support/hf-folders.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "morelora-convert-"));
const IDS = tensor([[3, 5, 7, 9, 4, 6]], { dtype: "int32" });

function perturbed(peft: PeftModel, seed: number): PeftModel {
  const rng = new Generator(seed);
  noGrad(() => {
    for (const [, t] of peft.trainableParameters())
      for (let i = 0; i < t.size; i++) t.data[i] += rng.normal(0, 0.2);
  });
  return peft;
}

describe("morelora convert --to lora", () => {
  it("truncated SVD: exact at the matrix's rank, error falling with the rank", () => {
    const rng = new Generator(2);
    const [m, n, r] = [30, 20, 3];
    const u = Array.from({ length: m * r }, () => rng.normal(0, 1));
    const v = Array.from({ length: r * n }, () => rng.normal(0, 1));
    const low = Float64Array.from({ length: m * n }, (_, k) => {
      let x = 0;
      for (let c = 0; c < r; c++) x += u[Math.floor(k / n) * r + c] * v[c * n + (k % n)];
      return x;
    });
    const exact = truncatedSvd(low, m, n, r);
    assert.ok(exact.relativeError < 1e-12, `rank-3 matrix at rank 3: ${exact.relativeError}`);
    const full = Float64Array.from({ length: m * n }, () => rng.normal(0, 1));
    const errs = [1, 4, 8, 16, 20].map((k) => truncatedSvd(full, m, n, k).relativeError);
    errs.slice(1).forEach((e, i) => assert.ok(e < errs[i], `rank errors ${errs.join(", ")} fall`));
    assert.ok(errs[4] < 1e-12, "full rank is exact");
  });

  it("a LoRA of rank r converted at rank ≥ r is exact (Llama with rsLoRA and a rank pattern, GPT-2 Conv1D)", () => {
    const llama = tinyLlamaFolder(["the", "cat", "sat"], 1, 0.3);
    const gpt2 = writeFolder(tmp(), GPT2_CONFIG, randomTensors(gpt2Shapes(), 2));
    for (const [dir, targets] of [
      [llama, ["q_proj", "k_proj", "down_proj", "embed_tokens"]],
      [gpt2, ["c_attn", "c_fc"]],
    ] as const) {
      const peft = perturbed(
        getPeftModel(loadModel(dir), {
          method: "lora",
          r: 3,
          alpha: 5,
          useRslora: true,
          rankPattern: { down_proj: 2 },
          targetModules: [...targets],
        }),
        4,
      );
      peft.baseModelNameOrPath = dir;
      const adapter = join(tmp(), "a");
      peft.save(adapter);
      const out = join(tmp(), "b");
      const { errors } = convertToLora(adapter, out, { rank: 4 });
      for (const e of errors) assert.ok(e.relativeError < 1e-6, `${e.module}: ${e.relativeError}`);
      const want = noGrad(() => peft.forward(IDS));
      const got = noGrad(() => PeftModel.load(loadModel(dir), out).forward(IDS));
      assertClose(got.data, want.data, { rtol: 1e-4, atol: 1e-5 });
    }
  });

  it("DoRA and LoHa: the error falls with the rank and vanishes at full rank", () => {
    const dir = tinyLlamaFolder(["the", "cat", "sat"], 3, 0.3);
    for (const method of ["dora", "loha"] as const) {
      const peft = perturbed(
        getPeftModel(loadModel(dir), { method, r: 4, alpha: 8, targetModules: ["q_proj", "v_proj"] }),
        5,
      );
      peft.baseModelNameOrPath = dir;
      const adapter = join(tmp(), method);
      peft.save(adapter);
      const worst = [1, 4, 16].map((rank) =>
        Math.max(...convertToLora(adapter, join(tmp(), "o"), { rank }).errors.map((e) => e.relativeError)),
      );
      assert.ok(worst[0] > worst[1] && worst[1] > worst[2], `${method}: ${worst.join(", ")}`);
      assert.ok(worst[2] < 1e-6, `${method} at full rank (16): ${worst[2]}`);
    }
  });

  it("the command reports each module's relative error and checks --to", () => {
    const dir = tinyLlamaFolder(["the", "cat", "sat"], 4, 0.3);
    const adapter = join(tmp(), "moslora");
    perturbed(getPeftModel(loadModel(dir), { method: "moslora", r: 4, targetModules: ["q_proj"] }), 6).save(
      adapter,
    );
    const cli = join(repoRoot(), "build", "src", "cli", "main.js");
    const run = (...args: string[]) =>
      spawnSync(
        "node",
        [cli, "convert", "--adapter", adapter, "--base", dir, "--out", join(tmp(), "o"), ...args],
        {
          encoding: "utf8",
        },
      );
    const ok = run("--to", "lora", "--rank", "2");
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /model\.layers\.1\.self_attn\.q_proj: relative error \d\.\d\de[-+]\d+/);
    assert.match(ok.stdout, /LoRA r = 2 on 2 modules/);
    const bad = run("--to", "loha", "--rank", "2");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--to expects "lora", got "loha"/);
  });
});
