import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSafetensors } from "../../src/io/index.js";
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
    assert.ok(existsSync(join(out, "loss.png")), "the loss plot as PNG too");
    const adapterConfig = JSON.parse(readFileSync(join(out, "adapter", "adapter_config.json"), "utf8"));
    assert.equal(adapterConfig.peft_type, "MORELORA_MOSLORA");
    assert.equal(adapterConfig.base_model_name_or_path, dir, "train records the base model folder");
    assert.equal(adapterConfig.task_type, "CAUSAL_LM");
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

  it("classification on a causal LM: the classifier variant with a fresh head saved with the adapter; eval, merge and predict take it", () => {
    const dir = folder();
    const rows = [
      ["the cat sat on the mat", "cat"],
      ["a dog ran", "dog"],
      ["the dog sat on a mat", "dog"],
      ["a cat ran", "cat"],
    ];
    writeFileSync(
      join(dir, "c.jsonl"),
      rows.map(([text, label]) => JSON.stringify({ text, label })).join("\n"),
    );
    const out = join(dir, "cls");
    const common = [
      "--model",
      dir,
      "--data",
      join(dir, "c.jsonl"),
      "--task",
      "classification",
      "--labels",
      "cat,dog",
    ];
    const r = run("train", ...common, "--max-steps", "3", "--batch-size", "2", "--out", out, "--quiet");
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /holds a LlamaForCausalLM; loaded as LlamaForSequenceClassification with a fresh head for the labels cat, dog/,
    );
    const adapter = join(out, "adapter");
    const config = JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8"));
    assert.deepEqual(config.modules_to_save, ["classifier", "score"]);
    assert.equal(config.task_type, "SEQ_CLS");
    const tensors = loadSafetensors(join(adapter, "adapter_model.safetensors"));
    assert.deepEqual(tensors.get("base_model.model.score.weight")?.shape, [2, 16]);
    const e = run("eval", ...common, "--adapter", adapter, "--json");
    assert.equal(e.status, 0, e.stderr);
    const scores = JSON.parse(e.stdout);
    assert.ok(scores.accuracy >= 0);
    // The confusion matrix counts every example once, and its diagonal is the accuracy.
    const cells = (scores.confusion as number[][]).flat();
    const total = cells.reduce((a, b) => a + b, 0);
    assert.deepEqual(scores.labels, ["cat", "dog"]);
    assert.ok(total > 0);
    assert.ok(Math.abs((scores.confusion[0][0] + scores.confusion[1][1]) / total - scores.accuracy) < 1e-12);
    const shown = run("eval", ...common, "--adapter", adapter);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /accuracy +\d\.\d{4}\n[\s\S]*true \\ predicted[\s\S]*cat[\s\S]*dog/);
    const merged = join(dir, "merged");
    const m = run("merge", "--base", dir, "--adapter", adapter, "--out", merged, "--labels", "cat,dog");
    assert.equal(m.status, 0, m.stderr);
    assert.deepEqual(JSON.parse(readFileSync(join(merged, "config.json"), "utf8")).architectures, [
      "LlamaForSequenceClassification",
    ]);
    const prompt = ["--prompt", "the dog ran"];
    const fromAdapter = run(
      "generate",
      "--model",
      dir,
      "--adapter",
      adapter,
      "--labels",
      "cat,dog",
      ...prompt,
    );
    assert.equal(fromAdapter.status, 0, fromAdapter.stderr);
    assert.match(fromAdapter.stdout, /^(cat|dog)\t0\.\d{4}\n(cat|dog)\t0\.\d{4}\n$/);
    const fromMerged = run("generate", "--model", merged, ...prompt);
    assert.equal(fromMerged.status, 0, fromMerged.stderr);
    assert.equal(fromMerged.stdout, fromAdapter.stdout);
  });

  it("the adapter morelora demo writes evaluates with the command it prints", () => {
    const out = join(folder(), "demo");
    const d = run(
      "demo",
      "--steps",
      "1",
      "--train-examples",
      "4",
      "--test-examples",
      "4",
      "--out",
      out,
      "--quiet",
    );
    assert.equal(d.status, 0, d.stderr);
    const command = /evaluate it: morelora (eval .*)/.exec(d.stdout)?.[1].split(" ");
    assert.ok(command, d.stdout);
    const small = join(out, "small.jsonl");
    writeFileSync(
      small,
      readFileSync(command[command.indexOf("--data") + 1], "utf8")
        .split("\n")
        .slice(0, 4)
        .join("\n"),
    );
    command[command.indexOf("--data") + 1] = small;
    const e = run(...command, "--json");
    assert.equal(e.status, 0, e.stderr);
    assert.ok(JSON.parse(e.stdout).accuracy >= 0);
  });
});
