import type { AdapterMethod } from "../method.js";
import { kaiming, need, zeros } from "./factors.js";
import { hadamardDelta } from "./hadamard-product.js";

const NAMES = ["hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b"] as const;

/**
 * LoHa / FedPara (PEFT's LOHA, methods.md §6): ΔW = s · (w1a w1b) ⊙ (w2a w2b) with every pair at
 * the full rank r; w1a, w1b, w2a kaiming-uniform, w2b zero, as PEFT does.
 */
export const loha: AdapterMethod = {
  name: "loha",
  layers: ["linear", "conv1d"],
  validate(ctx) {
    if (ctx.config.init === "gaussian")
      throw new Error('loha: init "gaussian" is defined for LoRA-style methods only');
  },
  init(ctx, kind) {
    const { m, n } = ctx.view;
    const r = ctx.r;
    return new Map([
      ["hada_w1_a", kaiming(ctx, [m, r])],
      ["hada_w1_b", kaiming(ctx, [r, n])],
      ["hada_w2_a", kaiming(ctx, [m, r])],
      ["hada_w2_b", kind === "nonzero" ? kaiming(ctx, [r, n]) : zeros(ctx, [r, n])],
    ]);
  },
  instance(ctx, tensors) {
    const [w1a, w1b, w2a, w2b] = NAMES.map((name) => need(tensors, name));
    return { delta: () => hadamardDelta([w1a, w2a], [w1b, w2b], ctx.scale, "none") };
  },
  parameterCount: (m, n, r) => 2 * r * (m + n),
};
