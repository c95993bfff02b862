import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../fixtures.js";
import { tinyLlamaFolder } from "../support/hf-folders.js";

const cli = join(repoRoot(), "build", "src", "cli", "main.js");

function folder(): string {
  const dir = tinyLlamaFolder(["the", "cat", "sat", "on", "mat", "a", "dog", "ran"], 12, 0.3);
  const texts = ["the cat sat on the mat", "a dog ran", "the dog sat on a mat", "a cat ran", "the mat sat"];
  writeFileSync(join(dir, "d.jsonl"), texts.map((text) => JSON.stringify({ text })).join("\n"));
  return dir;
}

/** Runs `morelora train`; crashAt makes it SIGKILL itself at that moment (src/io/crash-point.ts). */
function train(dir: string, args: string[], crashAt?: string, cwd?: string) {
  const base = ["train", "--model", dir, "--data", join(dir, "d.jsonl"), "--r", "4", "--lr", "0.01"];
  return spawnSync("node", [cli, ...base, "--batch-size", "2", "--val-ratio", "0.4", "--quiet", ...args], {
    encoding: "utf8",
    cwd,
    env: { ...process.env, MORELORA_CRASH_AT: crashAt ?? "" },
  });
}

/** metrics.jsonl without the wall-clock times. */
const metrics = (out: string): unknown[] =>
  readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => ({ ...(JSON.parse(l) as Record<string, unknown>), elapsed_s: 0 }));
const weights = (out: string, sub: string): Buffer =>
  readFileSync(join(out, sub, "adapter_model.safetensors"));

describe("runs that never lose or mix work", () => {
  for (const dropout of ["0", "0.3"]) {
    it(`killed at any moment and resumed until done, gives the uninterrupted run bit for bit (dropout ${dropout})`, () => {
      const dir = folder();
      const job = ["--max-steps", "8", "--checkpoint-every", "2", "--dropout", dropout];
      const whole = join(dir, "whole");
      assert.equal(train(dir, [...job, "--out", whole]).status, 0);
      const out = join(dir, "killed");
      const resume = [...job, "--out", out, "--resume", join(out, "checkpoint")];
      // Each run dies at the named moment; the next resumes from what the kill left.
      const kills: [string[], string][] = [
        [[...job, "--out", out], "step#3"], // between checkpoints (checkpoint of step 2 kept)
        [resume, "checkpoint-write#1"], // halfway through writing the step-4 checkpoint
        [resume, "dir-swap#1"], // old checkpoint renamed away, new one not yet in place
        [resume, "dir-swap#4"], // the final checkpoint's swap (after steps 6, 8 and best/)
        [resume, "dir-swap#1"], // the final adapter's swap
      ];
      for (const [args, at] of kills) {
        const r = train(dir, args, at);
        assert.equal(r.signal, "SIGKILL", `${at}: ${r.stderr}`);
      }
      const last = train(dir, resume);
      assert.equal(last.status, 0, last.stderr);
      assert.deepEqual(metrics(out), metrics(whole));
      assert.deepEqual(weights(out, "adapter"), weights(whole, "adapter"));
      assert.deepEqual(weights(out, "best"), weights(whole, "best"));
      assert.deepEqual(readdirSync(out).sort(), readdirSync(whole).sort());
    });
  }

  it("refuses a folder holding a run unless --overwrite or --resume; without --out writes to runs/<time>", () => {
    const dir = folder();
    const out = join(dir, "run");
    assert.equal(train(dir, ["--max-steps", "2", "--out", out]).status, 0);
    const again = train(dir, ["--max-steps", "2", "--out", out]);
    assert.equal(again.status, 1);
    assert.match(
      again.stderr,
      /^morelora: --out .*run: holds an earlier run \(adapter, best, checkpoint, metrics\.jsonl, loss\.svg, loss\.png\); pass --resume .*checkpoint to continue it, --overwrite to replace it, or another --out\n$/,
    );
    const replaced = train(dir, ["--max-steps", "3", "--out", out, "--overwrite"]);
    assert.equal(replaced.status, 0, replaced.stderr);
    assert.equal(metrics(out).length, 4, "3 steps and 1 validation: the old metrics are gone");
    const cwd = mkdtempSync(join(tmpdir(), "morelora-cwd-"));
    const fresh = train(dir, ["--max-steps", "1"], undefined, cwd);
    assert.equal(fresh.status, 0, fresh.stderr);
    const [made] = readdirSync(join(cwd, "runs"));
    assert.match(made, /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d$/);
    assert.match(fresh.stdout, new RegExp(`^writing to runs/${made} \\(no --out given\\)`));
    assert.ok(existsSync(join(cwd, "runs", made, "adapter", "adapter_model.safetensors")));
  });

  it("Ctrl-C saves a checkpoint, says how to resume, skips the final validation and exits 130", async () => {
    const dir = folder();
    const out = join(dir, "run");
    const base = [
      "train",
      "--model",
      dir,
      "--data",
      join(dir, "d.jsonl"),
      "--max-steps",
      "100000",
      "--val-ratio",
      "0.4",
    ];
    const child = spawn("node", [cli, ...base, "--out", out, "--quiet"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise((r) => child.on("exit", r));
    let gone = false;
    void exited.then(() => (gone = true));
    // Interrupt once training has logged a step.
    while (
      !gone &&
      !(existsSync(join(out, "metrics.jsonl")) && readFileSync(join(out, "metrics.jsonl"), "utf8"))
    )
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(!gone, "the run ended before it was interrupted");
    child.kill("SIGINT");
    const code = await exited;
    assert.equal(code, 130);
    const step = JSON.parse(readFileSync(join(out, "checkpoint", "trainer_state.json"), "utf8")).step;
    assert.match(
      stdout,
      new RegExp(
        `interrupted at step ${step}: saved .*checkpoint; continue with the same options and --resume .*checkpoint\\n$`,
      ),
    );
    assert.ok(!existsSync(join(out, "adapter")), "no final adapter for an unfinished run");
    assert.ok(!/eval_/.test(readFileSync(join(out, "metrics.jsonl"), "utf8")), "no final validation");
  });
});
