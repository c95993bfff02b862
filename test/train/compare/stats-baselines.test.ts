import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  classificationBaselines,
  type Example,
  fitLogistic,
  holmRejects,
  logisticLoss,
  logSpaced,
  pairedDifference,
  reseedHead,
  summarize,
  tTestP,
} from "../../../src/train/index.js";
import * as T from "../../../src/tensor/index.js";

const ex = (ids: number[], label: number): Example => ({ ids: Int32Array.from(ids), label });

describe("compare statistics", () => {
  it("gives the Student-t 95% interval of a mean (t(0.975, 4) = 2.776445)", () => {
    const s = summarize([1, 2, 3, 4, 5]);
    assert.equal(s.mean, 3);
    assert.ok(Math.abs(s.std - Math.sqrt(2.5)) < 1e-12);
    const half = (2.776445105 * Math.sqrt(2.5)) / Math.sqrt(5);
    assert.ok(Math.abs(s.ci95![0] - (3 - half)) < 1e-8 && Math.abs(s.ci95![1] - (3 + half)) < 1e-8);
    assert.equal(summarize([0.5]).ci95, null, "one value has no interval");
  });

  it("pairs differences by seed and ignores seeds one side lacks", () => {
    const d = pairedDifference(
      new Map([
        [0, 0.8],
        [1, 0.9],
        [2, 0.7],
      ]),
      new Map([
        [0, 0.7],
        [2, 0.6],
      ]),
    );
    assert.deepEqual(d.seeds, [0, 2]);
    assert.ok(Math.abs(d.mean - 0.1) < 1e-12 && d.std < 1e-12);
  });

  it("gives the two-sided p of the one-sample t-test, by the closed-form t CDFs of 1, 2 and 4 degrees of freedom", () => {
    // Closed forms of Student's t CDF (Abramowitz & Stegun 26.7.3 and 26.7.4), independent of the library.
    const cdf: Record<number, (t: number) => number> = {
      1: (t) => 0.5 + Math.atan(t) / Math.PI,
      2: (t) => 0.5 + t / (2 * Math.sqrt(2 + t * t)),
      4: (t) => 0.5 + ((3 / 8) * t * (1 - (t * t) / (12 * (1 + (t * t) / 4)))) / Math.sqrt(1 + (t * t) / 4),
    };
    for (const xs of [
      [0.3, 0.1],
      [0.5, -0.1, 0.2],
      [0.02, 0.03, 0.01, 0.04, 0],
      [-0.4, -0.1, -0.3, -0.2, -0.6],
    ]) {
      const s = summarize(xs);
      for (const line of [0, -0.02, 0.25]) {
        const t = Math.abs(s.mean - line) / (s.std / Math.sqrt(s.n));
        const expected = 2 * (1 - cdf[s.n - 1](t));
        const p = tTestP(s, line)!;
        assert.ok(Math.abs(p - expected) < 1e-12, `${xs} against ${line}: p ${p}, expected ${expected}`);
        // p < 0.05 exactly when the 95% interval leaves the line out.
        assert.equal(p < 0.05, line < s.ci95![0] || line > s.ci95![1]);
      }
    }
    assert.equal(tTestP(summarize([0.5, 0.5, 0.5]), 0), 0, "no spread and a mean off the line");
    assert.equal(tTestP(summarize([0.25, 0.25]), 0.25), 1, "no spread, mean on the line");
    assert.equal(tTestP(summarize([0.1]), 0), null, "one value has no test");
  });

  it("rejects by Holm's step-down rule, stopping at the first p over its threshold", () => {
    // Sorted: 0.005 ≤ 0.05/4, 0.01 ≤ 0.05/3, then 0.03 > 0.05/2 stops (0.04 is not looked at).
    assert.deepEqual(holmRejects([0.01, 0.04, 0.03, 0.005]), [true, false, false, true]);
    assert.deepEqual(holmRejects([0.02, 0.001, 0.03]), [true, true, true]);
    assert.deepEqual(holmRejects([0.04, 0.045]), [false, false], "each below 0.05, neither below 0.025");
    assert.deepEqual(holmRejects([0.04, 0.045], 0.1), [true, true]);
    assert.deepEqual(holmRejects([]), []);
  });

  it("spaces rates evenly in log10", () => {
    assert.deepEqual(logSpaced(1e-4, 1e-2, 5), [1e-4, 3.16e-4, 1e-3, 3.16e-3, 1e-2]);
  });
});

describe("baselines", () => {
  it("logistic regression's gradient matches float64 finite differences", () => {
    const data = {
      rows: [Int32Array.from([0, 2]), Int32Array.from([1]), Int32Array.from([0, 1, 3])],
      labels: Int32Array.from([0, 2, 1]),
      vocab: 4,
      classes: 3,
    };
    const w = Float64Array.from({ length: 15 }, (_, i) => Math.sin(i + 1) * 0.7);
    const { grad } = logisticLoss(w, data, 0.3);
    const h = 1e-6;
    for (let k = 0; k < w.length; k++) {
      const up = Float64Array.from(w);
      const down = Float64Array.from(w);
      up[k] += h;
      down[k] -= h;
      const numeric = (logisticLoss(up, data, 0.3).loss - logisticLoss(down, data, 0.3).loss) / (2 * h);
      assert.ok(Math.abs(numeric - grad[k]) < 1e-7, `weight ${k}: ${numeric} vs ${grad[k]}`);
    }
  });

  it("majority class and bag of tokens: the regression separates tokens the labels depend on", () => {
    // Label 1 iff token 7 appears; the other tokens occur in both classes; 6 of 10 are label 0.
    const train = [
      ex([7, 1], 1),
      ex([7, 2], 1),
      ex([7, 3], 1),
      ex([7, 4], 1),
      ex([1], 0),
      ex([2], 0),
      ex([3], 0),
      ex([4], 0),
      ex([1, 2], 0),
      ex([3, 4], 0),
    ];
    const test = [ex([7, 1, 2], 1), ex([3], 0), ex([7, 4], 1), ex([2, 3, 9], 0)];
    const [majority, bow] = classificationBaselines(train, train, test, 2);
    assert.equal(majority.name, "majority class");
    assert.equal(majority.validation, 0.6);
    assert.equal(majority.test, 0.5);
    assert.equal(bow.test, 1);
    assert.equal(bow.parameters, 2 * (5 + 1), "5 distinct training tokens and a bias, per class");
    const w = fitLogistic(
      {
        rows: [Int32Array.from([0]), Int32Array.from([1])],
        labels: Int32Array.from([0, 1]),
        vocab: 2,
        classes: 2,
      },
      0,
    );
    // Weights [token, class]: token 0's for classes 0 and 1, then token 1's.
    assert.ok(w[0] > w[1] && w[3] > w[2], "each token's weight grows for its own class");
  });
});

describe("a fresh head per seed", () => {
  it("draws the head's weights and bias anew per seed, within nn.Linear's bounds, and nothing else", () => {
    const params = (): [string, T.Tensor][] => [
      ["score.modules_to_save.default.weight", T.zeros([3, 16])],
      ["score.modules_to_save.default.bias", T.zeros([3])],
      ["model.layers.0.self_attn.q_proj.lora_A.default.weight", T.zeros([2, 16])],
    ];
    const [a, b, again] = [params(), params(), params()];
    reseedHead(a, ["score"], 0);
    reseedHead(b, ["score"], 1);
    reseedHead(again, ["score"], 0);
    assert.deepEqual(a[0][1].toArray(), again[0][1].toArray(), "the same seed draws the same head");
    assert.notDeepEqual(a[0][1].toArray(), b[0][1].toArray(), "another seed draws another head");
    for (const [, t] of [a[0], a[1]]) {
      const values = t.toArray() as number[];
      assert.ok(values.some((v) => v !== 0) && values.every((v) => Math.abs(v) <= 1 / Math.sqrt(16)));
    }
    assert.ok(
      (a[2][1].toArray() as number[]).every((v) => v === 0),
      "adapter tensors are left alone",
    );
  });
});
