import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as T from "../../src/tensor/index.js";
import { Generator, type Tensor } from "../../src/tensor/index.js";
import { assertClose, gradCheck } from "../helpers.js";

const ROWS = 7;
const DIM = 4;
const VOCAB = 5;
// One ignored row, so the mean is over 6 rows.
const TARGETS = T.tensor(Int32Array.from([0, 4, -100, 2, 2, 1, 3]), [ROWS]);

const make = (dtype: "float32" | "float64"): [Tensor, Tensor] => {
  const rng = new Generator(5);
  return [T.randn([ROWS, DIM], rng, { dtype }), T.randn([VOCAB, DIM], rng, { dtype })];
};

describe("linearCrossEntropy", () => {
  it("has float64 gradients (hidden and head weight) equal to finite differences, in chunks", () => {
    for (const chunkRows of [1, 3, ROWS]) {
      gradCheck((h, w) => T.linearCrossEntropy(h, w, TARGETS, { chunkRows }), make("float64"));
    }
  });

  it("equals crossEntropy of the full logits, value and gradients", () => {
    const grads = (loss: (h: Tensor, w: Tensor) => Tensor): number[][] => {
      const [h, w] = make("float32").map((t) => t.requireGrad());
      const l = loss(h, w);
      l.backward();
      return [[l.item()], Array.from(h.grad!.data), Array.from(w.grad!.data)];
    };
    const plain = grads((h, w) => T.crossEntropy(T.linear(h, w), TARGETS));
    const chunked = grads((h, w) => T.linearCrossEntropy(h, w, TARGETS, { chunkRows: 2 }));
    for (let i = 0; i < plain.length; i++)
      assertClose(chunked[i], plain[i], {
        rtol: 1e-5,
        atol: 1e-7,
        what: ["loss", "hidden grad", "weight grad"][i],
      });
  });

  it("with a bfloat16 or float16 head equals the float32 head of the same values, bitwise", () => {
    const [h0, w] = make("float32");
    for (const half of ["bfloat16", "float16"] as const) {
      const head = new T.Tensor(
        Uint16Array.from(w.data, (x) => T.encodeHalf(half, x)),
        w.shape,
        half,
      );
      const run = (weight: Tensor): number[] => {
        const h = h0.detach().requireGrad();
        const loss = T.linearCrossEntropy(h, weight, TARGETS, { chunkRows: 2 });
        loss.backward();
        return [loss.item(), ...h.grad!.data];
      };
      assert.deepEqual(run(head), run(head.to("float32")), half);
    }
  });

  it("scales its gradients by the output's gradient (a loss divided for accumulation)", () => {
    const grads = (factor: number): number[] => {
      const [h, w] = make("float64").map((t) => t.requireGrad());
      T.mul(T.linearCrossEntropy(h, w, TARGETS, { chunkRows: 3 }), factor).backward();
      return [...h.grad!.data, ...w.grad!.data];
    };
    assertClose(
      grads(0.25),
      grads(1).map((g) => g * 0.25),
      { rtol: 1e-12, atol: 1e-15, what: "gradients at 0.25" },
    );
  });

  it("gives no weight gradient to a frozen head, and names shapes that do not fit", () => {
    const [h, w] = make("float64");
    h.requireGrad();
    T.linearCrossEntropy(h, w, TARGETS).backward();
    assert.ok(h.grad);
    assert.equal(w.grad, null);
    assert.throws(
      () => T.linearCrossEntropy(h, T.zeros([VOCAB, DIM + 1], { dtype: "float64" }), TARGETS),
      /does not fit head weight/,
    );
  });
});
