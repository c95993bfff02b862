import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  generationBaselines,
  mostFrequentCompletion,
  nearestCompletion,
} from "../../../src/train/compare/generation-baselines.js";
import { editDistance } from "../../../src/train/compare/generation-score.js";
import { Generator } from "../../../src/tensor/index.js";

const pair = (prompt: string, completion: string) => ({ prompt, completion });

describe("generation baselines", () => {
  it("the most frequent completion counts completions as units, the first seen among equals", () => {
    const train = [pair("a", "K AE T"), pair("b", "D AO G"), pair("c", " K  AE T "), pair("d", "D AO G")];
    assert.equal(mostFrequentCompletion(train), "K AE T");
    assert.equal(mostFrequentCompletion([...train, pair("e", "D AO G")]), "D AO G");
  });

  it("the nearest training prompt is the one at the least edit distance, as a search of all finds it", () => {
    const rng = new Generator(5);
    const word = () => Array.from({ length: 1 + rng.int(8) }, () => "abcd"[rng.int(4)]).join(" ");
    const train = Array.from({ length: 200 }, (_, i) => ({ prompt: word(), completion: `C${i}` }));
    const indexed = train.map((t) => ({ units: t.prompt.split(" "), completion: t.completion }));
    for (let k = 0; k < 100; k++) {
      const prompt = word();
      const distances = train.map((t) => editDistance(prompt.split(" "), t.prompt.split(" ")));
      const first = distances.indexOf(Math.min(...distances));
      assert.equal(nearestCompletion(indexed, prompt), train[first].completion, prompt);
    }
  });

  it("scores both as the cells are scored: 1 − unit error rate, or exact match", () => {
    const pairs = {
      train: [
        pair("c a t", "K AE T"),
        pair("c a t s", "K AE T S"),
        pair("d o g", "D AO G"),
        pair("b a t", "B AE T"),
      ],
      // "c o t" is nearest "c a t" (1 edit; "d o g" is 2); "d o g s" is nearest "d o g".
      validation: [pair("c o t", "K AA T"), pair("d o g s", "D AO G Z")],
      test: [pair("b a t", "B AE T")],
    };
    const [constant, nearest] = generationBaselines(pairs, "edit-accuracy");
    assert.equal(constant.name, "most frequent completion");
    assert.equal(constant.floor, true);
    // "K AE T" against "K AA T" (1 edit) and "D AO G Z" (4): 1 − 5/7; against "B AE T": 1 − 1/3.
    assert.ok(Math.abs(constant.validation - (1 - 5 / 7)) < 1e-12);
    assert.ok(Math.abs(constant.test! - (1 - 1 / 3)) < 1e-12);
    // "K AE T" for "K AA T" (1 edit), "D AO G" for "D AO G Z" (1): 1 − 2/7; "B AE T" exactly.
    assert.equal(nearest.name, "nearest training prompt");
    assert.ok(Math.abs(nearest.validation - (1 - 2 / 7)) < 1e-12);
    assert.equal(nearest.test, 1);
    const exact = generationBaselines({ ...pairs, test: [] }, "exact-match");
    assert.deepEqual(
      exact.map((b) => [b.validation, b.test]),
      [
        [0, null],
        [0, null],
      ],
    );
  });
});
