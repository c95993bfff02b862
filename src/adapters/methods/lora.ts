import { lowRank } from "../delta.js";
import type { AdapterMethod } from "../method.js";
import { loraNames, loraPair, need } from "./factors.js";

/** LoRA (methods.md §0): ΔW = s · B A, applied as s · (x Aᵀ) Bᵀ. */
export const lora: AdapterMethod = {
  name: "lora",
  layers: ["linear", "conv1d", "embedding"],
  init(ctx, kind) {
    const { a, b } = loraPair(ctx, kind);
    const names = loraNames(ctx);
    return new Map([
      [names.a, a],
      [names.b, b],
    ]);
  },
  instance(ctx, tensors) {
    const names = loraNames(ctx);
    const a = need(tensors, names.a);
    const b = need(tensors, names.b);
    return { delta: () => lowRank(a, b, ctx.scale) };
  },
  parameterCount: (m, n, r) => r * (m + n),
};
