import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dropoutRow } from "../../src/backend/js/dropout-mask.js";
import * as T from "../../src/tensor/index.js";
import { Generator, randn, tensor } from "../../src/tensor/index.js";
import { assertClose } from "../helpers.js";

const f64 = { dtype: "float64" } as const;

/** Naive (i, j, p) triple loop over explicit element reads, batch by batch. */
function naiveMatmul(a: T.Tensor, b: T.Tensor, transA: boolean, transB: boolean): number[] {
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const n = transB ? br : bc;
  const batches = a.size / (ar * ac);
  const out: number[] = [];
  for (let t = 0; t < batches; t++) {
    const bOff = b.ndim === 2 ? 0 : t * br * bc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? a.data[t * ar * ac + p * ac + i] : a.data[t * ar * ac + i * ac + p];
          const bv = transB ? b.data[bOff + j * bc + p] : b.data[bOff + p * bc + j];
          s += av * bv;
        }
        out.push(s);
      }
    }
  }
  return out;
}

describe("forward values against independent computations", () => {
  it("matmul equals the naive triple loop for every transpose flag, across block edges", () => {
    const rng = new Generator(1);
    for (const [transA, transB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      for (const [m, k, n] of [
        [1, 1, 1],
        [7, 33, 5],
        [9, 130, 260],
      ]) {
        const a = randn(transA ? [k, m] : [m, k], rng, f64);
        const b = randn(transB ? [n, k] : [k, n], rng, f64);
        const got = T.matmul(a, b, { transA, transB });
        assert.deepEqual(got.shape, [m, n]);
        assertClose(got.data, naiveMatmul(a, b, transA, transB), { rtol: 1e-12, atol: 1e-12 });
      }
    }
  });

  it("batched matmul equals per-batch products", () => {
    const rng = new Generator(2);
    const a = randn([3, 4, 6], rng, f64);
    const b = randn([3, 6, 2], rng, f64);
    assertClose(T.matmul(a, b).data, naiveMatmul(a, b, false, false), { rtol: 1e-12 });
    const w = randn([5, 6], rng, f64);
    assertClose(T.matmul(a, w, { transB: true }).data, naiveMatmul(a, w, false, true), { rtol: 1e-12 });
  });

  it("broadcasting follows NumPy", () => {
    const a = tensor([[1], [2], [3]]);
    const b = tensor([10, 20]);
    const c = T.add(a, b);
    assert.deepEqual(c.shape, [3, 2]);
    assert.deepEqual(c.toArray(), [11, 21, 12, 22, 13, 23]);
    assert.throws(() => T.add(tensor([1, 2, 3]), tensor([1, 2])), /cannot be broadcast/);
  });

  it("activations match reference values", () => {
    const x = tensor([-1, 0, 1, 2], f64);
    // Values from the closed forms: x·Φ(x), the tanh form, x·σ(x).
    assertClose(T.gelu(x).data, [-0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416], {
      rtol: 1e-12,
    });
    assertClose(T.gelu(x, "tanh").data, [-0.15880800939172324, 0, 0.8411919906082768, 1.954597694087775], {
      rtol: 1e-12,
    });
    assertClose(T.silu(x).data, [-0.2689414213699951, 0, 0.7310585786300049, 1.7615941559557649], {
      rtol: 1e-12,
    });
    assertClose(T.sigmoid(tensor([-800, 800], f64)).data, [0, 1], { atol: 0 });
  });

  it("softmax, logSoftmax, cross-entropy with smoothing and ignore", () => {
    const x = tensor([[1, 2, 3]], f64);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const z = e[0] + e[1] + e[2];
    assertClose(
      T.softmax(x).data,
      e.map((v) => v / z),
      { rtol: 1e-14 },
    );
    assertClose(
      T.logSoftmax(x).data,
      e.map((v) => Math.log(v / z)),
      { rtol: 1e-14 },
    );
    const lse = Math.log(z);
    const target = tensor(Int32Array.from([0]), [1]);
    assertClose([T.crossEntropy(x, target).item()], [lse - 1], { rtol: 1e-14 });
    const smoothed = 0.9 * (lse - 1) + 0.1 * (lse - 2);
    assertClose([T.crossEntropy(x, target, { labelSmoothing: 0.1 }).item()], [smoothed], { rtol: 1e-14 });
    const two = tensor(
      [
        [1, 2, 3],
        [0, 0, 0],
      ],
      f64,
    );
    const ignored = T.crossEntropy(two, tensor(Int32Array.from([0, -100]), [2]));
    assertClose([ignored.item()], [lse - 1], { rtol: 1e-14 });
  });

  it("layerNorm and rmsNorm follow their definitions", () => {
    const x = tensor([[1, 2, 4, 9]], f64);
    const mu = 4;
    const variance = (9 + 4 + 0 + 25) / 4;
    const w = tensor([1, 2, 3, 4], f64);
    const b = tensor([0.5, 0, 0, -1], f64);
    const ln = T.layerNorm(x, w, b, 1e-5);
    const want = [1, 2, 4, 9].map((v, i) => ((v - mu) / Math.sqrt(variance + 1e-5)) * (i + 1) + b.data[i]);
    assertClose(ln.data, want, { rtol: 1e-12 });
    const ms = (1 + 4 + 16 + 81) / 4;
    assertClose(
      T.rmsNorm(x, w, 1e-6).data,
      [1, 2, 4, 9].map((v, i) => (v / Math.sqrt(ms + 1e-6)) * (i + 1)),
      {
        rtol: 1e-12,
      },
    );
  });

  it("reductions, max and argmax", () => {
    const x = tensor([
      [
        [1, 5],
        [3, 2],
        [0, 7],
      ],
    ]);
    assert.deepEqual(T.sum(x, 1).toArray(), [4, 14]);
    assert.deepEqual(T.sum(x, [0, 2], true).shape, [1, 3, 1]);
    assert.deepEqual(T.sum(x, [0, 2], true).toArray(), [6, 5, 7]);
    assert.deepEqual(T.mean(x, -1).toArray(), [3, 2.5, 3.5]);
    assert.deepEqual(T.max(x, 1).toArray(), [3, 7]);
    assert.deepEqual(T.argmax(x, 1).toArray(), [1, 2]);
    assert.equal(T.sum(x).item(), 18);
  });

  it("shape ops move the right elements", () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(T.transpose(x).toArray(), [1, 4, 2, 5, 3, 6]);
    assert.deepEqual(T.slice(x, 1, 1).toArray(), [2, 3, 5, 6]);
    assert.deepEqual(T.concat([x, x], 0).shape, [4, 3]);
    assert.deepEqual(T.concat([x, T.slice(x, 1, 0, 1)], 1).toArray(), [1, 2, 3, 1, 4, 5, 6, 4]);
    assert.deepEqual(T.indexSelect(x, 1, [2, 0]).toArray(), [3, 1, 6, 4]);
    assert.deepEqual(T.gather(x, 1, tensor(Int32Array.from([2, 0]), [2, 1])).toArray(), [3, 4]);
    assert.deepEqual(T.permute(T.reshape(x, [1, 2, 3]), [2, 0, 1]).toArray(), [1, 4, 2, 5, 3, 6]);
    assert.throws(() => T.reshape(x, [4, -1]), /cannot view/);
    assert.throws(() => T.indexSelect(x, 0, [2]), /out of range/);
  });

  it("dropout keeps the expected fraction and the mean, and is seeded", () => {
    const x = T.ones([20000]);
    const y = T.dropout(x, 0.25, new Generator(4));
    const kept = y.toArray().filter((v) => v !== 0).length / 20000;
    assert.ok(Math.abs(kept - 0.75) < 0.015, `kept ${kept}`);
    assert.ok(Math.abs(T.mean(y).item() - 1) < 0.03);
    assert.deepEqual(T.dropout(x, 0.25, new Generator(4)).toArray(), y.toArray());
    assert.equal(T.dropout(x, 0.25, new Generator(4), false), x);
  });

  it("dropout's mask is the hashed mask of one seed drawn from the generator, at row 0 and j = the element's index", () => {
    const x = randn([3, 5, 7], new Generator(1), f64);
    const rng = new Generator(9);
    const y = T.dropout(x, 0.4, rng);
    const draws = new Generator(9);
    const keep = dropoutRow(0.4, draws.nextUint32(), 0);
    assert.deepEqual(
      y.data,
      Float64Array.from(x.data, (v, i) => v * keep(i)),
    );
    assert.ok(y.data.includes(0), "nothing dropped");
    assert.equal(rng.nextUint32(), draws.nextUint32(), "dropout draws one uint32");
  });

  it("rowNorm is the L2 norm of each row", () => {
    const x = tensor(
      [
        [3, 4],
        [0, 0],
        [1, 1],
      ],
      f64,
    );
    assertClose(T.rowNorm(x).data, [5, 0, Math.SQRT2], { rtol: 1e-15 });
  });
});
