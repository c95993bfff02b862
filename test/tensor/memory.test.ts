import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Linear } from "../../src/nn/index.js";
import * as T from "../../src/tensor/index.js";
import { Generator } from "../../src/tensor/index.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
}

describe("memory", () => {
  it("1000 training steps do not grow the heap: backward releases the graph", () => {
    const rng = new Generator(1);
    const fc1 = new Linear(32, 64, { rng });
    const fc2 = new Linear(64, 1, { rng });
    const x = T.randn([128, 32], rng);
    const y = T.randn([128, 1], rng);
    const params = [...fc1.parameters(), ...fc2.parameters()];
    // Keeping every loss, as a training log might, keeps its graph alive unless backward frees it.
    const kept: T.Tensor[] = [];
    const step = (): void => {
      for (const p of params) p.zeroGrad();
      const d = T.sub(fc2.forward(T.gelu(fc1.forward(x))), y);
      const loss = T.mean(T.mul(d, d));
      loss.backward();
      kept.push(loss);
      T.noGrad(() => {
        for (const p of params) p.data.set(T.sub(p, T.mulScalar(p.grad!, 1e-3)).data);
      });
    };
    for (let i = 0; i < 100; i++) step();
    const before = heapAfterGc();
    for (let i = 0; i < 1000; i++) step();
    const growth = heapAfterGc() - before;
    // One step allocates about 0.3 MB of buffers; keeping each step's graph would grow by ~300 MB.
    assert.ok(growth < 2e6, `heap and buffers grew by ${(growth / 1e6).toFixed(2)} MB over 1000 steps`);
  });
});
