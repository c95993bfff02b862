import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as T from "../../src/tensor/index.js";
import { Generator, type Tensor } from "../../src/tensor/index.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const leaf = (shape: number[], seed: number): Tensor => T.randn(shape, new Generator(seed)).requireGrad();
/** A tensor computed from a leaf: it requires grad and is held by nothing but the caller. */
const tracked = (shape: number[], seed: number): Tensor => T.mulScalar(leaf(shape, seed), 1);
const frozen = (shape: number[], seed: number): Tensor => T.randn(shape, new Generator(seed));

interface Case {
  name: string;
  /** Builds an op's output from the watched tensors (which no one else holds). */
  build: () => { out: Tensor; watch: Record<string, Tensor> };
  /** The watched tensors whose data the op keeps for its backward. */
  kept: string[];
}

const cases: Case[] = [
  {
    name: "a frozen linear keeps nothing of its input",
    build: () => {
      const x = tracked([6, 4], 1);
      return { out: T.linear(x, frozen([5, 4], 2), { bias: frozen([5], 3) }), watch: { x } };
    },
    kept: [],
  },
  {
    name: "a linear whose weight trains keeps its input",
    build: () => {
      const x = tracked([6, 4], 1);
      return { out: T.linear(x, leaf([5, 4], 2)), watch: { x } };
    },
    kept: ["x"],
  },
  {
    name: "a frozen linear with a trained low-rank term keeps its input for A's gradient",
    build: () => {
      const x = tracked([6, 4], 1);
      const lowRank = { a: leaf([2, 4], 2), b: leaf([5, 2], 3), scale: 2 };
      return { out: T.linear(x, frozen([5, 4], 4), { lowRank }), watch: { x } };
    },
    kept: ["x"],
  },
  {
    name: "with A frozen only x·Aᵀ is kept, for B's gradient",
    build: () => {
      const x = tracked([6, 4], 1);
      const lowRank = { a: frozen([2, 4], 2), b: leaf([5, 2], 3), scale: 2 };
      return { out: T.linear(x, frozen([5, 4], 4), { lowRank }), watch: { x } };
    },
    kept: [],
  },
  {
    name: "a product keeps each factor whose partner takes a gradient",
    build: () => {
      const [x, y] = [tracked([3, 4], 1), tracked([3, 4], 2)];
      return { out: T.mul(x, y), watch: { x, y } };
    },
    kept: ["x", "y"],
  },
  {
    name: "a product with a constant keeps only the constant",
    build: () => {
      const [x, c] = [tracked([3, 4], 1), frozen([3, 4], 2)];
      return { out: T.mul(x, c), watch: { x, c } };
    },
    kept: ["c"],
  },
  {
    name: "dropout keeps nothing: its backward recomputes the mask from the seed",
    build: () => {
      const x = tracked([3, 4], 1);
      const out = T.dropout(x, 0.5, new Generator(2));
      return { out: T.mulScalar(out, 1), watch: { x, out } };
    },
    kept: [],
  },
  {
    name: "a matmul keeps only the operand the trained one's gradient reads",
    build: () => {
      const [a, b] = [tracked([3, 4], 1), frozen([4, 5], 2)];
      return { out: T.matmul(a, b), watch: { a, b } };
    },
    kept: ["b"],
  },
  ...(
    [
      ["SiLU", T.silu, "x"],
      ["exp", T.exp, "out"],
      ["softmax", T.softmax, "out"],
    ] as const
  ).map(([name, op, kept]): Case => ({
    name: `${name} keeps its ${kept === "x" ? "input, not its output" : "output, not its input"}`,
    build: () => {
      const x = tracked([3, 4], 1);
      const out = op(x);
      return { out: T.mulScalar(out, 1), watch: { x, out } };
    },
    kept: [kept],
  })),
  {
    name: "additions, reshapes, slices and concatenations keep nothing",
    build: () => {
      const [x, y] = [tracked([3, 4], 1), tracked([3, 4], 2)];
      const sum = T.add(x, y);
      const out = T.reshape(T.concat([T.slice(sum, 1, 0, 2), T.neg(x)], 1), [18]);
      return { out, watch: { x, y, sum } };
    },
    kept: [],
  },
  {
    name: "the rotary embedding keeps only its tables",
    build: () => {
      const x = tracked([2, 3, 2, 4], 1);
      const [cos, sin] = [frozen([2, 3, 1, 4], 2), frozen([2, 3, 1, 4], 3)];
      return { out: T.rope(x, cos, sin), watch: { x, cos, sin } };
    },
    kept: ["cos", "sin"],
  },
  {
    name: "views, permutes, gathers and means keep nothing of their inputs",
    build: () => {
      const [x, y, z] = [tracked([3, 4], 1), tracked([3, 4], 2), tracked([3, 4], 3)];
      const picked = T.indexSelect(T.permute(T.reshape(x, [-1, 2]), [1, 0]), 1, [0, 5]);
      const gathered = T.gather(y, 1, T.tensor(Int32Array.from([0, 1, 2]), [3, 1]));
      return { out: T.add(T.sum(picked), T.add(T.sum(gathered), T.mean(z))), watch: { x, y, z } };
    },
    kept: [],
  },
  {
    name: "RMSNorm keeps its input",
    build: () => {
      const x = tracked([3, 4], 1);
      return { out: T.rmsNorm(x, frozen([4], 2)), watch: { x } };
    },
    kept: ["x"],
  },
];

/** Which watched tensors' buffers survive a full garbage collection while the output is alive. */
async function keptData(c: Case): Promise<{ out: Tensor; kept: string[] }> {
  const { out, refs } = (() => {
    const { out, watch } = c.build();
    return { out, refs: Object.entries(watch).map(([k, t]) => [k, new WeakRef(t.data.buffer)] as const) };
  })();
  // A WeakRef made in this turn keeps its target until the turn ends.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return { out, kept: refs.filter(([, r]) => r.deref() !== undefined).map(([k]) => k) };
}

describe("what an op keeps for its backward", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { out, kept } = await keptData(c);
      assert.deepEqual(kept, c.kept);
      // The graph still back-propagates from what was kept.
      T.sum(out).backward();
    });
  }

  it("dropout keeps no mask: after a collection only its input (a leaf) and its output remain", async () => {
    const n = 1 << 20;
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const out = T.dropout(leaf([n], 1), 0.5, new Generator(2));
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const buffers = (process.memoryUsage().arrayBuffers - before) / (4 * n);
    assert.equal(Math.round(buffers), 2, `${buffers} buffers of the input's size`);
    T.sum(out).backward();
  });

  it("the graph keeps no op's inputs: a chain of frozen linears keeps none of its activations", async () => {
    const { out, kept } = await keptData({
      name: "chain",
      build: () => {
        const h0 = tracked([6, 4], 1);
        const h1 = T.linear(h0, frozen([8, 4], 2));
        const h2 = T.linear(h1, frozen([4, 8], 3));
        return { out: T.linear(h2, frozen([3, 4], 4)), watch: { h0, h1, h2 } };
      },
      kept: [],
    });
    assert.deepEqual(kept, []);
    T.sum(out).backward();
  });
});
