import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Generator } from "../../../src/tensor/index.js";
import { editDistance } from "../../../src/train/compare/generation-score.js";

const split = (s: string): string[] => (s === "" ? [] : s.split(" "));

describe("the edit distance behind the unit error rate", () => {
  it("counts substitutions, insertions and deletions (worked cases)", () => {
    // kitten → sitting: k→s, e→i, insert g.
    assert.equal(editDistance([..."kitten"], [..."sitting"]), 3);
    // CAT as K AE T against K AH T: one substitution.
    assert.equal(editDistance(split("K AE T"), split("K AH T")), 1);
    // One phone dropped, one added at the end.
    assert.equal(editDistance(split("K AE T S"), split("K T S IH")), 2);
    assert.equal(editDistance([], split("K AE T")), 3);
    assert.equal(editDistance(split("K AE T"), []), 3);
    assert.equal(editDistance(split("K AE T"), split("K AE T")), 0);
  });

  it("matches a brute-force count over every alignment on random short sequences", () => {
    // The distance is the fewest edits, so it equals the minimum over all monotone alignments,
    // computed here by plain recursion (exponential, fine at length ≤ 6).
    const slow = (a: string[], b: string[]): number =>
      a.length === 0 || b.length === 0
        ? a.length + b.length
        : Math.min(
            slow(a.slice(1), b) + 1,
            slow(a, b.slice(1)) + 1,
            slow(a.slice(1), b.slice(1)) + (a[0] === b[0] ? 0 : 1),
          );
    const rng = new Generator(7);
    const next = (): number => Math.floor(rng.uniform() * 1000);
    for (let trial = 0; trial < 200; trial++) {
      const draw = (): string[] => Array.from({ length: next() % 7 }, () => "ABC"[next() % 3]);
      const a = draw();
      const b = draw();
      assert.equal(editDistance(a, b), slow(a, b), `${a.join("")} vs ${b.join("")}`);
      assert.equal(editDistance(a, b), editDistance(b, a));
    }
  });
});
