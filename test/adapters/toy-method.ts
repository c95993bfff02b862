import { lowRank } from "../../src/adapters/delta.js";
import type { AdapterMethod } from "../../src/adapters/index.js";
import { kaiming, need, zeros } from "../../src/adapters/methods/factors.js";

declare module "../../src/adapters/config.js" {
  interface MethodOptions {
    /** toy: a factor on ΔW. */
    toyGain?: number;
  }
}

/**
 * A method that exists only in the tests, to prove that a method is one file plus its
 * registration (docs/adding-a-method.md): ΔW = s · g · P Q with tensor names of its own,
 * P [out, r] kaiming-uniform and Q [r, in] zero, and one option g (toyGain).
 */
export const toy: AdapterMethod = {
  name: "toy",
  layers: ["linear", "conv1d"],
  options: [{ key: "toyGain", type: "number", default: 1, help: "toy: a factor on ΔW" }],
  tensorNames: /toy_[PQ]\.weight/,
  moduleShape(tensors) {
    const [p, q] = [tensors.get("toy_P.weight"), tensors.get("toy_Q.weight")];
    return p && q ? { kind: "linear", m: p.shape[0], n: q.shape[1] } : null;
  },
  init(ctx, kind) {
    const { m, n } = ctx.view;
    return new Map([
      ["toy_P.weight", kaiming(ctx, [m, ctx.r])],
      ["toy_Q.weight", kind === "nonzero" ? kaiming(ctx, [ctx.r, n]) : zeros(ctx, [ctx.r, n])],
    ]);
  },
  instance(ctx, tensors) {
    const p = need(tensors, "toy_P.weight");
    const q = need(tensors, "toy_Q.weight");
    return { delta: () => lowRank(q, p, ctx.scale * (ctx.config.toyGain ?? 1)) };
  },
  parameterCount: (m, n, r) => r * (m + n),
};
