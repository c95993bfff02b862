import type { Tensor } from "../../tensor/index.js";
import type { AdapterMethod } from "../method.js";
import { kaiming, need, zeros } from "./factors.js";
import {
  type Activation,
  FACTOR_TENSORS,
  factorNames,
  factorShape,
  hadamardDelta,
  K_OPTION,
  splitRank,
} from "./hadamard-product.js";

declare module "../config.js" {
  interface MethodOptions {
    /** Hadamard: the activation applied to each factor product before the Hadamard product. */
    activation: Activation;
  }
}

/**
 * Hadamard-product LoRA (MoreLoRA "h-mul", docs/methods.md §1.3): the rank budget r split into k
 * pairs Uᵢ [m, r/k], Vᵢ [r/k, n]; ΔW = s · ⊙ᵢ act(Uᵢ Vᵢ), act none, tanh or sigmoid. Every
 * factor starts kaiming-uniform except V_k = 0, so ΔW = 0 (sigmoid needs the "better" init).
 */
export const hadamard: AdapterMethod = {
  name: "hadamard",
  layers: ["linear", "conv1d"],
  options: [
    K_OPTION,
    {
      key: "activation",
      type: "string",
      default: "none",
      values: ["none", "tanh", "sigmoid"],
      help: "hadamard: none, tanh or sigmoid",
    },
  ],
  tensorNames: FACTOR_TENSORS,
  moduleShape: factorShape,
  validate(ctx) {
    splitRank(ctx.r, ctx.config.k, "hadamard");
    if (ctx.config.activation === "sigmoid" && ctx.config.init !== "better") {
      throw new Error(
        'hadamard with activation "sigmoid" needs init "better": σ(0) = 0.5 makes ΔW non-zero even with zero factors',
      );
    }
  },
  init(ctx, kind) {
    const rk = splitRank(ctx.r, ctx.config.k, "hadamard");
    const tensors = new Map<string, Tensor>();
    for (let i = 1; i <= ctx.config.k; i++) {
      const { u, v } = factorNames(i);
      const last = i === ctx.config.k && kind !== "nonzero";
      tensors.set(u, kaiming(ctx, [ctx.view.m, rk]));
      tensors.set(v, last ? zeros(ctx, [rk, ctx.view.n]) : kaiming(ctx, [rk, ctx.view.n]));
    }
    return tensors;
  },
  instance(ctx, tensors) {
    const pairs = Array.from({ length: ctx.config.k }, (_, i) => factorNames(i + 1));
    const us = pairs.map(({ u }) => need(tensors, u));
    const vs = pairs.map(({ v }) => need(tensors, v));
    return { delta: () => hadamardDelta(us, vs, ctx.scale, ctx.config.activation) };
  },
  parameterCount: (m, n, r) => r * (m + n),
};
