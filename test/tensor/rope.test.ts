import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as T from "../../src/tensor/index.js";
import { Generator, randn, type Tensor } from "../../src/tensor/index.js";
import { assertClose, gradCheck } from "../helpers.js";

const f64 = { dtype: "float64" } as const;

/** HF's unfused formula: x·cos + rotate_half(x)·sin, rotate_half(x) = [−x2, x1]. */
function plainRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const half = x.shape[x.ndim - 1] / 2;
  const rotated = T.concat([T.neg(T.slice(x, -1, half)), T.slice(x, -1, 0, half)], -1);
  return T.add(T.mul(x, cos), T.mul(rotated, sin));
}

/** x [2, 3, heads, dim] and tables [2, 3, 1, dim]; the tables' halves differ, unlike real RoPE tables. */
function inputs(heads: number, dim: number, seed: number): [Tensor, Tensor, Tensor] {
  const rng = new Generator(seed);
  return [
    randn([2, 3, heads, dim], rng, f64),
    randn([2, 3, 1, dim], rng, f64),
    randn([2, 3, 1, dim], rng, f64),
  ];
}

describe("rope", () => {
  for (const [heads, dim] of [
    [1, 2],
    [3, 8],
  ]) {
    it(`${heads} heads of ${dim}: output and gradient equal the unfused path`, () => {
      const [x, cos, sin] = inputs(heads, dim, 1);
      const fused = x.detach().requireGrad();
      const plain = x.detach().requireGrad();
      const yf = T.rope(fused, cos, sin);
      const yp = plainRope(plain, cos, sin);
      assertClose(yf.data, yp.data, { rtol: 1e-12, atol: 1e-14, what: "output" });
      const w = randn(yf.shape, new Generator(2), f64);
      T.sum(T.mul(yf, w)).backward();
      T.sum(T.mul(yp, w)).backward();
      assertClose(fused.grad!.data, plain.grad!.data, { rtol: 1e-12, atol: 1e-14, what: "gradient" });
    });

    it(`${heads} heads of ${dim}: gradient matches finite differences in float64`, () => {
      const [x, cos, sin] = inputs(heads, dim, 3);
      gradCheck((t) => T.rope(t, cos, sin), [x]);
    });
  }

  it("rejects an odd head size, mismatched tables and tables that require grad", () => {
    const [x, cos, sin] = inputs(2, 4, 4);
    assert.throws(
      () => T.rope(T.slice(x, -1, 0, 3), T.slice(cos, -1, 0, 3), T.slice(sin, -1, 0, 3)),
      /must be even/,
    );
    assert.throws(
      () => T.rope(x, T.slice(cos, 1, 0, 2), sin),
      /cos must have shape \[2, 3, 1, 4\], got \[2, 2, 1, 4\]/,
    );
    assert.throws(() => T.rope(x, cos, sin.detach().requireGrad()), /sin is a table without gradient/);
  });
});
