import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { trainMlpRegression } from "../../src/demo/mlp-regression.js";
import { repoRoot } from "../fixtures.js";

describe("end to end: a 2-layer MLP fitted with an optimizer written on the ops", () => {
  it("drives the loss below 2% of where it started, below 0.01 absolute, deterministically", () => {
    const losses = trainMlpRegression({ steps: 300, seed: 1 });
    const first = losses[0];
    const last = losses[losses.length - 1];
    assert.ok(last < 0.01, `final loss ${last}`);
    assert.ok(last < 0.02 * first, `final ${last} vs first ${first}`);
    assert.deepEqual(trainMlpRegression({ steps: 20, seed: 1 }), losses.slice(0, 20));
  });

  it("the CLI demo prints falling losses and a bad flag is one clear line with exit 1", () => {
    const cli = join(repoRoot(), "build", "src", "cli", "main.js");
    const out = execFileSync(process.execPath, [cli, "demo", "--steps", "40"], { encoding: "utf8" });
    const losses = [...out.matchAll(/loss (\d+\.\d+)\n/g)].map((m) => Number(m[1]));
    assert.ok(losses.length >= 4 && losses[losses.length - 1] < losses[0], out);
    assert.throws(
      () =>
        execFileSync(process.execPath, [cli, "demo", "--steps", "-3"], { encoding: "utf8", stdio: "pipe" }),
      (e: { status: number; stderr: string }) => {
        // Other lines may be notices (such as OPENBLAS_CORETYPE's); the error is one line, no stack.
        const lines = e.stderr
          .trim()
          .split("\n")
          .filter((l) => !l.includes("OPENBLAS_CORETYPE"));
        return (
          e.status === 1 && lines.join("\n") === 'morelora: --steps expects a positive integer, got "-3"'
        );
      },
    );
  });
});
