import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dropoutRow, mix32 } from "../../src/backend/js/dropout-mask.js";
import * as T from "../../src/tensor/index.js";
import { type AttentionOptions, Generator, randn, type Tensor } from "../../src/tensor/index.js";
import { assertClose, gradCheck } from "../helpers.js";
import { plainAttention } from "../support/plain-attention.js";

const f64 = { dtype: "float64" } as const;

interface Case {
  name: string;
  batch: number;
  tq: number;
  tk: number;
  dim: number;
  options: AttentionOptions;
  /** [batch][tk] keep flags. */
  keep?: number[][];
}

function inputs(c: Case, seed: number): Tensor[] {
  const rng = new Generator(seed);
  const kv = c.options.kvHeads ?? c.options.heads;
  return [
    randn([c.batch, c.tq, c.options.heads * c.dim], rng, f64),
    randn([c.batch, c.tk, kv * c.dim], rng, f64),
    randn([c.batch, c.tk, kv * c.dim], rng, f64),
  ];
}

/** The case's options with its key mask as a tensor, and the given dropout. */
function caseOptions(c: Case, dropout?: AttentionOptions["dropout"]): AttentionOptions {
  const options = { ...c.options, dropout };
  return c.keep
    ? { ...options, keyMask: T.tensor(Int32Array.from(c.keep.flat()), [c.batch, c.tk]) }
    : options;
}

/** A seed above 2³¹, which must pass through every layer as a uint32. */
const DROPOUT = { p: 0.3, seed: 0x9e3779b9 };

const CASES: Case[] = [
  { name: "no mask", batch: 2, tq: 5, tk: 5, dim: 3, options: { heads: 2 } },
  { name: "causal", batch: 2, tq: 6, tk: 6, dim: 4, options: { heads: 2, causal: true } },
  {
    name: "padding, non-causal (BERT)",
    batch: 2,
    tq: 4,
    tk: 4,
    dim: 3,
    options: { heads: 2 },
    keep: [
      [1, 1, 1, 0],
      [1, 1, 1, 1],
    ],
  },
  {
    name: "causal, left padding (a padded query sees no key), GQA",
    batch: 2,
    tq: 5,
    tk: 5,
    dim: 2,
    options: { heads: 4, kvHeads: 2, causal: true },
    keep: [
      [0, 0, 1, 1, 1],
      [1, 1, 1, 1, 1],
    ],
  },
  {
    name: "sliding window 2, multi-query",
    batch: 1,
    tq: 7,
    tk: 7,
    dim: 3,
    options: { heads: 3, kvHeads: 1, causal: true, window: 2 },
  },
  {
    name: "cached keys (tq < tk), window and padding, scale",
    batch: 2,
    tq: 2,
    tk: 6,
    dim: 3,
    options: { heads: 2, causal: true, window: 3, scale: 0.7 },
    keep: [
      [0, 1, 1, 1, 1, 1],
      [1, 1, 1, 0, 1, 1],
    ],
  },
];

describe("fused attention", () => {
  for (const c of CASES) {
    for (const dropout of [undefined, DROPOUT]) {
      const name = dropout ? `${c.name}, dropout ${dropout.p}` : c.name;
      const options = caseOptions(c, dropout);

      it(`${name}: output and gradients equal the unfused path`, () => {
        const fused = inputs(c, 1).map((t) => t.requireGrad());
        const plain = fused.map((t) => t.detach().requireGrad());
        const yf = T.attention(fused[0], fused[1], fused[2], options);
        const yp = plainAttention(plain[0], plain[1], plain[2], options);
        assertClose(yf.data, yp.data, { rtol: 1e-10, atol: 1e-12, what: "output" });
        const w = randn(yf.shape, new Generator(2), f64);
        T.sum(T.mul(yf, w)).backward();
        T.sum(T.mul(yp, w)).backward();
        fused.forEach((t, i) =>
          assertClose(t.grad!.data, plain[i].grad!.data, { rtol: 1e-9, atol: 1e-12, what: `gradient ${i}` }),
        );
      });

      it(`${name}: gradients match finite differences in float64`, () => {
        gradCheck((q, k, v) => T.attention(q, k, v, options), inputs(c, 3));
      });
    }
  }

  it("the window changes the result once the sequence is longer than it", () => {
    const c = CASES[4];
    const [q, k, v] = inputs(c, 4);
    const full = T.attention(q, k, v, { ...c.options, window: 0 });
    const windowed = T.attention(q, k, v, c.options);
    // The first `window` queries see the same keys either way; the later ones do not.
    assertClose(windowed.data.subarray(0, 2 * 9), full.data.subarray(0, 2 * 9), { rtol: 1e-12 });
    assert.ok(Math.abs(windowed.data[6 * 9] - full.data[6 * 9]) > 1e-6);
  });

  it("a NaN input makes the rows that see it NaN, not zero", () => {
    const c = CASES[1];
    const [q, k, v] = inputs(c, 7);
    q.data[0] = Number.NaN; // batch 0, query 0, head 0
    const y = T.attention(q, k, v, c.options);
    assert.ok(Number.isNaN(y.data[0]), "the query with the NaN gives NaN");
    assert.ok(Number.isFinite(y.data[c.dim]), "the other head of that query stays finite");
  });

  it("float32 agrees with float64", () => {
    const c: Case = {
      name: "",
      batch: 2,
      tq: 70,
      tk: 70,
      dim: 16,
      options: { heads: 4, kvHeads: 2, causal: true },
    };
    const [q, k, v] = inputs(c, 5);
    const y64 = T.attention(q, k, v, c.options);
    const y32 = T.attention(q.to("float32"), k.to("float32"), v.to("float32"), c.options);
    assertClose(y32.data, y64.data, { rtol: 1e-4, atol: 1e-5 });
  });

  it("dropout keeps 1 − p of the probabilities, scales them by 1/(1 − p), and the seed fixes which", () => {
    // All scores 0 and v = 1: query row r's output is (its kept keys)/(tk·(1 − p)).
    const [batch, heads, tq, tk] = [2, 4, 64, 256];
    const q = T.zeros([batch, tq, heads], f64);
    const k = randn([batch, tk, 2], new Generator(8), f64);
    const v = T.ones([batch, tk, 2], f64);
    const keptPerRow = (p: number, seed: number): number[] => {
      const y = T.attention(q, k, v, { heads, kvHeads: 2, dropout: { p, seed } });
      return Array.from(y.data, (x) => x * tk * (1 - p));
    };
    for (const p of [0.1, 0.5]) {
      const kept = keptPerRow(p, 1);
      for (const x of kept) assert.ok(Math.abs(x - Math.round(x)) < 1e-9, `${x} keys kept`);
      const n = batch * heads * tq * tk;
      const fraction = kept.reduce((a, x) => a + x, 0) / n;
      const standardError = Math.sqrt((p * (1 - p)) / n);
      assert.ok(Math.abs(fraction - (1 - p)) < 4 * standardError, `p ${p}: kept ${fraction}`);
      assert.deepEqual(keptPerRow(p, 1), kept, "the same seed, the same mask");
      const other = keptPerRow(p, 2);
      const differ = kept.filter((x, r) => Math.round(x) !== Math.round(other[r])).length;
      assert.ok(differ > kept.length / 2, `seeds 1 and 2 differ in ${differ} of ${kept.length} rows`);
    }
  });

  it("dropout with p = 0 gives bitwise the output and gradients of no dropout", () => {
    const c = CASES[3];
    const run = (options: AttentionOptions): Float64Array[] => {
      const xs = inputs(c, 9).map((t) => t.requireGrad());
      const y = T.attention(xs[0], xs[1], xs[2], options);
      T.sum(T.mul(y, randn(y.shape, new Generator(2), f64))).backward();
      return [y, ...xs.map((t) => t.grad!)].map((t) => t.data as Float64Array);
    };
    assert.deepStrictEqual(run(caseOptions(c, { p: 0, seed: 5 })), run(caseOptions(c)));
  });

  it("the dropout mask is lowbias32 of (seed, query row, key) against ⌊p·2³²⌋", () => {
    // Values from an independent uint32 implementation of the formula in docs/attention.md.
    assert.equal(mix32(0), 0);
    assert.equal(mix32(1), 0x688990c0);
    assert.equal(mix32(0xdeadbeef), 3861431939);
    const keep = dropoutRow(0.3, 12345, 7);
    const kept = Array.from({ length: 16 }, (_, j) => (keep(j) === 0 ? 0 : 1));
    assert.deepEqual(kept, [1, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0]);
    assert.equal(keep(0), 1 / 0.7);
  });

  it("rejects bad shapes and options with a message naming them", () => {
    const [q, k, v] = inputs(CASES[0], 6);
    assert.throws(() => T.attention(q, k, v, { heads: 4 }), /q's last axis 6 does not split into 4 heads/);
    assert.throws(
      () => T.attention(q, k, v, { heads: 2, kvHeads: 3 }),
      /heads 2 must be a multiple of kvHeads 3/,
    );
    assert.throws(
      () => T.attention(q, k, T.slice(v, 1, 1), { heads: 2 }),
      /v must have shape \[2, 5, 6\], got \[2, 4, 6\]/,
    );
    assert.throws(() => T.attention(q, k, v, { heads: 2, window: 2 }), /sliding window needs causal/);
    assert.throws(
      () => T.attention(q, k, v, { heads: 2, keyMask: T.tensor(new Int32Array(5), [1, 5]) }),
      /keyMask must have shape \[2, 5\]/,
    );
    assert.throws(
      () =>
        T.attention(T.slice(q, 1, 0, 4), T.slice(k, 1, 0, 3), T.slice(v, 1, 0, 3), {
          heads: 2,
          causal: true,
        }),
      /at least as many keys/,
    );
    for (const p of [1, -0.1, Number.NaN])
      assert.throws(
        () => T.attention(q, k, v, { heads: 2, dropout: { p, seed: 1 } }),
        /attention: dropout p must be in \[0, 1\), got/,
      );
    for (const seed of [-1, 0.5, 2 ** 32])
      assert.throws(
        () => T.attention(q, k, v, { heads: 2, dropout: { p: 0.1, seed } }),
        new RegExp(`attention: dropout seed must be a uint32 integer, got ${seed}`),
      );
  });
});
