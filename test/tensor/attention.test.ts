import assert from "node:assert/strict";
import { describe, it } from "node:test";
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

function withMask(c: Case): AttentionOptions {
  return c.keep
    ? { ...c.options, keyMask: T.tensor(Int32Array.from(c.keep.flat()), [c.batch, c.tk]) }
    : c.options;
}

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
    it(`${c.name}: output and gradients equal the unfused path`, () => {
      const fused = inputs(c, 1).map((t) => t.requireGrad());
      const plain = fused.map((t) => t.detach().requireGrad());
      const options = withMask(c);
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

    it(`${c.name}: gradients match finite differences in float64`, () => {
      const options = withMask(c);
      gradCheck((q, k, v) => T.attention(q, k, v, options), inputs(c, 3));
    });
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
  });
});
