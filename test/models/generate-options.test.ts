import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { penalizeRepetition } from "../../src/models/generate.js";
import { repoRoot } from "../fixtures.js";

const cli = join(repoRoot(), "build", "src", "cli", "main.js");
const builtin = join(repoRoot(), "assets", "morelora-default");
const generate = (...args: string[]) =>
  spawnSync(
    "node",
    [cli, "generate", "--model", builtin, "--prompt", "The whale", "--max-new-tokens", "20", ...args],
    {
      encoding: "utf8",
    },
  );

describe("generate: repetition penalty, stop strings, system message, speed", () => {
  it("penalizes seen tokens as transformers does: positive logits divided, negative multiplied", () => {
    assert.deepEqual([...penalizeRepetition([2, -1, 0.5, 3], [0, 1, 1], 2)], [1, -2, 0.5, 3]);
  });

  it("stops before a stop string, changes the text with a penalty, and reports tokens/s", () => {
    const plain = generate();
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stderr, /^20 tokens in \d+\.\d\d s \(\d+\.\d tokens\/s\)/);
    const text = plain.stdout.replace(/\n$/, "");
    const stop = text.slice(6, 10);
    const cut = generate("--stop", "zzz", "--stop", stop);
    assert.equal(cut.stdout, `${text.slice(0, text.indexOf(stop))}\n`);
    const penalized = generate("--repetition-penalty", "1.5");
    assert.notEqual(penalized.stdout, plain.stdout);
    const bad = generate("--system", "Be brief.");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--system goes with --chat/);
  });
});
