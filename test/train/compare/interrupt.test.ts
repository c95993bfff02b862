import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CellStore, type JobOptions, runComparison } from "../../../src/train/index.js";
import { tinyLlamaFolder } from "../../support/hf-folders.js";

describe("an interrupted comparison", () => {
  it("does not save the cell that Ctrl-C cut short", async () => {
    const dir = tinyLlamaFolder(["the", "cat", "sat", "on", "a", "mat"], 3, 0.3);
    const data = join(dir, "d.jsonl");
    writeFileSync(
      data,
      ["the cat sat", "on a mat", "a cat sat on the mat"].map((text) => JSON.stringify({ text })).join("\n"),
    );
    const out = join(dir, "cmp");
    const base = {
      valRatio: 0,
      adapter: { r: 2, alpha: 4, targetModules: ["q_proj"] },
      train: { maxSteps: 400, batchSize: 2 },
    } as unknown as JobOptions;
    const task = {
      name: "lm",
      metric: "loss" as const,
      head: [],
      job: {
        model: dir,
        data,
        validation: data,
        task: "causal-lm" as const,
        textField: "text",
        maxLength: 8,
      },
    };
    // The trainer listens for SIGINT while it runs; emitting it in-process asks it to stop.
    const ticker = setInterval(() => process.emit("SIGINT"), 20);
    try {
      await assert.rejects(
        runComparison(base, [task], {
          variants: ["lora"],
          seeds: 1,
          lrs: [0.01],
          extend: 0,
          dyloraRanks: [],
          outDir: out,
          resume: false,
        }),
        /interrupted during lm lora lr 0.01 seed 0; finished cells are saved, continue with --resume/,
      );
    } finally {
      clearInterval(ticker);
    }
    const path = new CellStore(join(out, "cells"), true).path({
      task: "lm",
      variant: "lora",
      lr: 0.01,
      seed: 0,
    });
    assert.ok(!existsSync(path), "the cut-short cell was not stored");
  });
});
