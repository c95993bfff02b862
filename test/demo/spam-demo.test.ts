import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEFAULT_MODEL_DIR, runSpamDemo } from "../../src/demo/spam.js";
import { HFTokenizer, loadModel } from "../../src/models/index.js";
import { repoRoot } from "../fixtures.js";

describe("the built-in default", () => {
  it("ships a model and tokenizer that load and round-trip text", () => {
    const tok = HFTokenizer.load(DEFAULT_MODEL_DIR);
    const text = "Call me Ishmael. Mr. President, the state of the Union is strong.";
    assert.equal(tok.decode(tok.encode(text)), text);
    const model = loadModel(DEFAULT_MODEL_DIR);
    const params = model.parameters().reduce((n, t) => n + t.size, 0);
    assert.ok(params > 1e6 && params < 1e7, `${params} parameters`);
  });

  it("fine-tunes on the spam task and reports accuracy before and after", async () => {
    const result = await runSpamDemo({
      method: "lora",
      steps: 4,
      trainExamples: 64,
      testExamples: 48,
      batchSize: 8,
    });
    assert.equal(result.trainer.step, 4);
    assert.ok(result.before.accuracy! >= 0 && result.after.accuracy! <= 1);
    assert.equal(result.testCount, 48);
    assert.ok(result.peft.trainableParameters().some(([n]) => n.startsWith("score.modules_to_save.")));
  });

  it("morelora demo writes the adapter and the loss plot", () => {
    const out = join(mkdtempSync(join(tmpdir(), "morelora-demo-")), "out");
    const cli = join(repoRoot(), "build", "src", "cli", "main.js");
    const r = spawnSync(
      "node",
      [
        cli,
        "demo",
        "--method",
        "moslora",
        "--steps",
        "3",
        "--train-examples",
        "48",
        "--test-examples",
        "32",
        "--out",
        out,
        "--quiet",
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /test accuracy: \d+\.\d% before, \d+\.\d% after/);
    assert.ok(existsSync(join(out, "adapter", "adapter_model.safetensors")));
    assert.equal(
      JSON.parse(readFileSync(join(out, "adapter", "adapter_config.json"), "utf8")).peft_type,
      "MORELORA_MOSLORA",
    );
    assert.ok(existsSync(join(out, "loss.svg")));
  });
});
