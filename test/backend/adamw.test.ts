import { describe, it } from "node:test";
import { jsBackend } from "../../src/backend/index.js";
import { assertClose } from "../helpers.js";

describe("AdamW kernel", () => {
  it("follows torch.optim.AdamW's update step by step, in float64 and float32", () => {
    const args = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
    const grads = [
      [0.5, -1, 0, 2],
      [0.1, 0.3, -0.2, -2],
      [1, 1, 1, 1],
    ];
    // The reference: torch's algorithm written out with scalars.
    let p = [1, -2, 0.5, 0];
    let m = [0, 0, 0, 0];
    let v = [0, 0, 0, 0];
    const p64 = Float64Array.from(p);
    const p32 = Float32Array.from(p);
    const st64 = [new Float64Array(4), new Float64Array(4)];
    const st32 = [new Float32Array(4), new Float32Array(4)];
    grads.forEach((g, i) => {
      const t = i + 1;
      p = p.map((x) => x * (1 - args.lr * args.weightDecay));
      m = m.map((x, j) => args.beta1 * x + (1 - args.beta1) * g[j]);
      v = v.map((x, j) => args.beta2 * x + (1 - args.beta2) * g[j] * g[j]);
      const mHat = m.map((x) => x / (1 - args.beta1 ** t));
      const vHat = v.map((x) => x / (1 - args.beta2 ** t));
      p = p.map((x, j) => x - (args.lr * mHat[j]) / (Math.sqrt(vHat[j]) + args.eps));
      jsBackend.adamw(p64, Float64Array.from(g), st64[0], st64[1], { ...args, step: t });
      jsBackend.adamw(p32, Float32Array.from(g), st32[0], st32[1], { ...args, step: t });
      assertClose(p64, p, { rtol: 1e-12, atol: 1e-12, what: `float64 step ${t}` });
      assertClose(p32, p, { rtol: 1e-6, atol: 1e-6, what: `float32 step ${t}` });
    });
  });
});
