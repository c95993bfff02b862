import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { childArgs, FAILURES_IN_A_ROW, runChains } from "../../src/cli/compare-jobs.js";

describe("compare --jobs: the arguments a child gets", () => {
  it("drops what each child gets its own value of, in both spellings, and what only the parent does", () => {
    assert.deepEqual(
      childArgs([
        ...["--jobs", "2", "--tasks=spam,g2p", "--max-steps", "40", "--methods", "lora,dora"],
        ...["--resume", "--report-only", "--out", "r", "--quiet", "--jobs=3", "--lrs", "1e-3"],
      ]),
      ["--max-steps", "40", "--out", "r", "--quiet", "--lrs", "1e-3"],
    );
  });
});

describe("compare --jobs: chains that fail", () => {
  it("starts no further chain once FAILURES_IN_A_ROW have failed in a row, and says how many it left", async () => {
    // Every child fails at its start, as under a broken setup: the same error for each chain.
    const variants = ["lora", "dora", "moslora", "condlora", "additive"];
    const chains = variants.map((variant) => ({ task: "spam", variant }));
    const failed = await runChains(chains, ["--out", "/dev/null/out"], 1);
    assert.equal(failed.length, FAILURES_IN_A_ROW + 1);
    failed.slice(0, FAILURES_IN_A_ROW).forEach((line, i) => {
      assert.match(line, new RegExp(`^spam ${variants[i]}: .*ENOTDIR`));
    });
    assert.match(
      failed[FAILURES_IN_A_ROW],
      new RegExp(
        `^${variants.length - FAILURES_IN_A_ROW} chain\\(s\\) not started after ${FAILURES_IN_A_ROW} failed in a row`,
      ),
    );
  });
});
