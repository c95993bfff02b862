import * as T from "../../tensor/index.js";
import type { Tensor } from "../../tensor/index.js";
import type { AdapterMethod } from "../method.js";
import { kaiming, need, tiledIdentities, zeros } from "./factors.js";
import {
  FACTOR_TENSORS,
  factorNames,
  factorShape,
  hadamardDelta,
  K_OPTION,
  splitRank,
} from "./hadamard-product.js";

/**
 * Hadamard-Add (MoreLoRA, docs/methods.md §1.3): Δᵢ = Uᵢ I_A + I_B Vᵢ (Additive LoRA at rank r/k),
 * ΔW = s · ⊙ᵢ Δᵢ. Each Δᵢ is the product [Uᵢ, I_B][I_A; Vᵢ], so the Hadamard product factors
 * like Hadamard-Mul's. ΔW = 0 at init needs one Δᵢ = 0: the last pair starts at zero, the
 * others kaiming-uniform (the zero pair still gets gradient through the others).
 */
export const hadamardAdd: AdapterMethod = {
  name: "hadamard-add",
  layers: ["linear", "conv1d"],
  options: [K_OPTION],
  tensorNames: FACTOR_TENSORS,
  moduleShape: factorShape,
  validate(ctx) {
    splitRank(ctx.r, ctx.config.k, "hadamard-add");
  },
  init(ctx, kind) {
    const rk = splitRank(ctx.r, ctx.config.k, "hadamard-add");
    const tensors = new Map<string, Tensor>();
    for (let i = 1; i <= ctx.config.k; i++) {
      const { u, v } = factorNames(i);
      const zero = i === ctx.config.k && kind !== "nonzero";
      tensors.set(u, zero ? zeros(ctx, [ctx.view.m, rk]) : kaiming(ctx, [ctx.view.m, rk]));
      tensors.set(v, zero ? zeros(ctx, [rk, ctx.view.n]) : kaiming(ctx, [rk, ctx.view.n]));
    }
    return tensors;
  },
  instance(ctx, tensors) {
    const { ia, ib } = tiledIdentities(ctx, ctx.r / ctx.config.k);
    const pairs = Array.from({ length: ctx.config.k }, (_, i) => factorNames(i + 1));
    const us = pairs.map(({ u }) => need(tensors, u));
    const vs = pairs.map(({ v }) => need(tensors, v));
    return {
      delta: () =>
        hadamardDelta(
          us.map((u) => T.concat([u, ib], 1)),
          vs.map((v) => T.concat([ia, v], 0)),
          ctx.scale,
          "none",
        ),
    };
  },
  parameterCount: (m, n, r) => r * (m + n),
};
