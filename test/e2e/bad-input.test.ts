import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { getPeftModel, mergeAdapterFolder } from "../../src/adapters/index.js";
import { loadModel } from "../../src/models/index.js";
import { repoRoot } from "../fixtures.js";
import { tinyLlamaFolder } from "../support/hf-folders.js";

const cli = join(repoRoot(), "build", "src", "cli", "main.js");
const run = (...args: string[]) => spawnSync("node", [cli, ...args], { encoding: "utf8" });
const dir = tinyLlamaFolder(["the", "cat", "sat", "on", "mat"], 5, 0.3);

describe("input that gets one clear line", () => {
  it("generate: a prompt longer than the model's positions", () => {
    const r = run("generate", "--model", dir, "--prompt", "the cat ".repeat(100));
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      "morelora: --prompt: 200 tokens, more than the model's max_position_embeddings (128)\n",
    );
  });

  it("train: a data file whose texts are all empty, before any output is written", () => {
    writeFileSync(join(dir, "empty.jsonl"), '{"text": ""}\n{"text": ""}\n');
    const out = join(dir, "run");
    const r = run("train", "--model", dir, "--data", join(dir, "empty.jsonl"), "--out", out, "--quiet");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^morelora: .*empty\.jsonl: every text \(text\) is empty\n$/);
    assert.ok(!existsSync(out));
  });

  it("merge: an adapter whose target_modules contradict its tensors", () => {
    const adapter = join(dir, "adapter");
    getPeftModel(loadModel(dir), { targetModules: ["q_proj"], r: 2 }).save(adapter);
    const configFile = join(adapter, "adapter_config.json");
    const config = JSON.parse(readFileSync(configFile, "utf8")) as Record<string, unknown>;
    writeFileSync(configFile, JSON.stringify({ ...config, target_modules: ["v_proj"] }));
    assert.throws(
      () => mergeAdapterFolder(dir, adapter, join(dir, "merged")),
      /adapter_model\.safetensors: has tensors for model\.layers\.0\.self_attn\.q_proj, which its config's "target_modules" \["v_proj"\] do not select/,
    );
    assert.ok(!existsSync(join(dir, "merged")));
  });
});
