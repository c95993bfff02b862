import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { childArgs } from "../../src/cli/compare-jobs.js";

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
