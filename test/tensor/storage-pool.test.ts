import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import * as T from "../../src/tensor/index.js";
import { Generator, type Tensor } from "../../src/tensor/index.js";
import { pooledStorage, setStoragePooling, takeStorage } from "../../src/tensor/storage-pool.js";
import { assertClose } from "../helpers.js";

const N = 48;

/**
 * A graph whose rules hand one gradient to several inputs (add, concat of a tensor with itself),
 * pass views of it on (reshape) and sum into a leaf: e = d², d = [c, c], c = b flat, b = a + a,
 * a = 2x + 3y. With the output gradient G = [G1, G2]: dx = 2 · 8a · (G1 + G2), dy = 3 · 8a · (G1 + G2).
 */
function run(): { x: Tensor; y: Tensor; g: Tensor; gCopy: Float32Array; held: Tensor[] } {
  const x = T.randn([N, N], new Generator(1)).requireGrad();
  const y = T.randn([N, N], new Generator(2)).requireGrad();
  const a = T.add(T.mulScalar(x, 2), T.mulScalar(y, 3));
  const b = T.add(a, a);
  const c = T.reshape(b, [N * N]);
  const d = T.concat([c, c], 0);
  const e = T.mul(d, d);
  const g = T.randn([2 * N * N], new Generator(3));
  const gCopy = (g.data as Float32Array).slice();
  e.backward(g);
  return { x, y, g, gCopy, held: [a, b, c, d, e] };
}

describe("recycled gradient storage", () => {
  afterEach(() => setStoragePooling(true));

  it("recycles consumed gradients and changes no gradient", () => {
    setStoragePooling(false);
    const plain = run();
    setStoragePooling(true, { minBytes: 0 });
    const pooled = run();
    assert.ok(pooledStorage().buffers > 0, "the backward recycled nothing");
    assert.deepEqual(pooled.x.grad!.data, plain.x.grad!.data);
    assert.deepEqual(pooled.y.grad!.data, plain.y.grad!.data);
    const a = pooled.held[0].data;
    const g = pooled.gCopy;
    const want = Float64Array.from(a, (v, i) => 16 * v * (g[i] + g[i + N * N]));
    assertClose(pooled.x.grad!.data, want, { rtol: 1e-5, atol: 1e-5, what: "dx" });
    assertClose(
      pooled.y.grad!.data,
      want.map((v) => v * 1.5),
      { rtol: 1e-5, atol: 1e-5, what: "dy" },
    );
  });

  it("never gives out a buffer that a leaf's gradient, the caller's gradient or a live tensor uses", () => {
    setStoragePooling(true, { minBytes: 0 });
    const { x, y, g, gCopy, held } = run();
    assert.deepEqual(g.data, gCopy, "the caller's gradient was written to");
    const live = new Set([x, y, g, ...held].flatMap((t) => [t.data.buffer, t.grad?.data.buffer]));
    let taken = 0;
    for (const size of [N * N, 2 * N * N])
      for (let s = takeStorage("float32", size); s; s = takeStorage("float32", size)) {
        taken++;
        assert.ok(!live.has(s.buffer), "a recycled buffer is still in use");
      }
    assert.ok(taken > 0);
    assert.equal(pooledStorage().buffers, 0);
  });

  it("a later step takes its outputs from the recycled buffers", () => {
    setStoragePooling(true, { minBytes: 0 });
    run();
    const before = pooledStorage().buffers;
    T.mulScalar(T.randn([N, N], new Generator(4)), 2);
    assert.equal(pooledStorage().buffers, before - 1);
  });
});
