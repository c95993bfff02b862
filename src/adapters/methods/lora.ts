import { lowRank } from "../delta.js";
import type { AdapterMethod } from "../method.js";
import { LORA_TENSORS, loraNames, loraPair, loraShape, need } from "./factors.js";

/** LoRA (docs/methods.md §0): ΔW = s · B A, applied as s · (x Aᵀ) Bᵀ. */
export const lora: AdapterMethod = {
  name: "lora",
  layers: ["linear", "conv1d", "embedding"],
  tensorNames: LORA_TENSORS,
  moduleShape: loraShape,
  peft: { type: "LORA", claims: (json) => !json.use_dora },
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
