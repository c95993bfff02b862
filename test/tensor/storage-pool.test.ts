import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { record } from "../../src/tensor/autograd.js";
import * as T from "../../src/tensor/index.js";
import { Generator, Tensor } from "../../src/tensor/index.js";
import { recyclingCounts, setStoragePooling, takeStorage } from "../../src/tensor/storage-pool.js";
import { assertClose } from "../helpers.js";

const N = 48;

/** The identity, whose backward rule first runs `look` on the gradient it is given. */
function probe(x: Tensor, look: (g: Tensor) => void): Tensor {
  return record(new Tensor(x.storage.slice(), x.shape), "probe", [x], (g) => {
    look(g);
    return [g];
  });
}

/**
 * A graph whose rules hand one gradient to several inputs (add, concat of a tensor with itself),
 * pass views of it on (reshape) and sum into a leaf: e = d², d = [c, c], c = b flat, b = a + a,
 * a = 2x + 3y. With the output gradient G = [G1, G2]: dx = 2 · 8a · (G1 + G2), dy = 3 · 8a · (G1 + G2).
 */
function run(look: (g: Tensor, held: Tensor[]) => void = () => {}): {
  x: Tensor;
  y: Tensor;
  gCopy: Float32Array;
  held: Tensor[];
} {
  const x = T.randn([N, N], new Generator(1)).requireGrad();
  const y = T.randn([N, N], new Generator(2)).requireGrad();
  const held: Tensor[] = [];
  const a = T.add(
    T.mulScalar(x, 2),
    T.mulScalar(
      probe(y, (g) => look(g, held)),
      3,
    ),
  );
  const b = T.add(a, a);
  const c = T.reshape(b, [N * N]);
  const d = T.concat([c, c], 0);
  const e = T.mul(d, d);
  const g = T.randn([2 * N * N], new Generator(3));
  held.push(x, y, a, b, c, d, e, g);
  const gCopy = (g.data as Float32Array).slice();
  e.backward(g);
  assert.deepEqual(g.data, gCopy, "the caller's gradient was written to");
  return { x, y, gCopy, held };
}

describe("recycled gradient storage", () => {
  afterEach(() => setStoragePooling(true));

  it("reuses consumed gradients' buffers and changes no gradient", () => {
    setStoragePooling(false);
    const plain = run();
    setStoragePooling(true, { minBytes: 0 });
    const pooled = run();
    assert.ok(recyclingCounts().reused > 0, "the backward reused no buffer");
    assert.deepEqual(pooled.x.grad!.data, plain.x.grad!.data);
    assert.deepEqual(pooled.y.grad!.data, plain.y.grad!.data);
    const a = pooled.held[2].data;
    const g = pooled.gCopy;
    const want = Float64Array.from(a, (v, i) => 16 * v * (g[i] + g[i + N * N]));
    assertClose(pooled.x.grad!.data, want, { rtol: 1e-5, atol: 1e-5, what: "dx" });
    assertClose(
      pooled.y.grad!.data,
      want.map((v) => v * 1.5),
      { rtol: 1e-5, atol: 1e-5, what: "dy" },
    );
  });

  it("never holds a buffer that a pending gradient, a leaf's gradient, the caller or a live tensor uses", () => {
    setStoragePooling(true, { minBytes: 0 });
    let taken = 0;
    run((pending, held) => {
      // Mid-backward: the gradient this rule is given is pending, and so is x's path.
      const live = new Set(
        [pending, ...held].flatMap((t) => [t.data.buffer, t.grad?.data.buffer]).filter((b) => b),
      );
      for (const size of [N * N, 2 * N * N])
        for (let s = takeStorage("float32", size); s; s = takeStorage("float32", size)) {
          taken++;
          assert.ok(!live.has(s.buffer), "a recycled buffer is still in use");
        }
    });
    assert.ok(taken > 0, "nothing was recycled before the probe ran");
  });

  it("empties the lists when the backward ends", () => {
    setStoragePooling(true, { minBytes: 0 });
    run();
    assert.ok(recyclingCounts().recycled > 0);
    assert.equal(takeStorage("float32", N * N), null);
    assert.equal(takeStorage("float32", 2 * N * N), null);
  });
});
