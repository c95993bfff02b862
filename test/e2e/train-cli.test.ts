import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../fixtures.js";
import { tinyLlamaFolder } from "../support/hf-folders.js";

const cli = join(repoRoot(), "build", "src", "cli", "main.js");
const run = (...args: string[]) => spawnSync("node", [cli, ...args], { encoding: "utf8" });

function folder(): string {
  const dir = tinyLlamaFolder(["the", "cat", "sat", "on", "mat", "a", "dog", "ran"], 12, 0.3);
  const texts = ["the cat sat on the mat", "a dog ran", "the dog sat on a mat", "a cat ran", "the mat sat"];
  writeFileSync(join(dir, "d.jsonl"), texts.map((text) => JSON.stringify({ text })).join("\n"));
  return dir;
}

describe("morelora train and eval", () => {
  it("trains from a YAML config with flags overriding it, writes the adapter, metrics and plot, and evaluates", () => {
    const dir = folder();
    const out = join(dir, "run");
    writeFileSync(
      join(dir, "job.yaml"),
      `model: ${dir}\ndata: ${join(dir, "d.jsonl")}\nmethod: moslora\nr: 4\nmaxSteps: 50\nbatchSize: 2\nlr: 0.01\ngradCheckpoint: true\n`,
    );
    const r = run("train", "--config", join(dir, "job.yaml"), "--max-steps", "6", "--out", out, "--quiet");
    assert.equal(r.status, 0, r.stderr);
    const lines = readFileSync(join(out, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(Math.max(...lines.map((l) => l.step)), 6, "the flag overrides the config's maxSteps");
    assert.ok(
      existsSync(join(out, "adapter", "adapter_config.json")) &&
        existsSync(join(out, "checkpoint", "trainer_state.json")),
    );
    assert.match(readFileSync(join(out, "loss.svg"), "utf8"), /^<svg[^>]*>[\s\S]*<path d="M/);
    const adapterConfig = JSON.parse(readFileSync(join(out, "adapter", "adapter_config.json"), "utf8"));
    assert.equal(adapterConfig.peft_type, "MORELORA_MOSLORA");
    assert.equal(adapterConfig.base_model_name_or_path, dir, "train records the base model folder");
    const e = run(
      "eval",
      "--model",
      dir,
      "--data",
      join(dir, "d.jsonl"),
      "--adapter",
      join(out, "adapter"),
      "--json",
    );
    assert.equal(e.status, 0, e.stderr);
    assert.ok(JSON.parse(e.stdout).perplexity > 1);
  });

  it("gives one clear line on bad input", () => {
    const dir = folder();
    for (const [args, message] of [
      [
        ["train", "--model", dir, "--data", join(dir, "d.jsonl"), "--method", "nope"],
        /--method: expected one of lora, dora/,
      ],
      [["train", "--model", dir], /--data is required/],
      [["train", "--model", dir, "--data", join(dir, "none.jsonl")], /none\.jsonl: no such file or folder/],
    ] as const) {
      const r = run(...args);
      assert.equal(r.status, 1);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });
});
