import { init } from "../../nn/index.js";
import * as T from "../../tensor/index.js";
import { lowRank } from "../delta.js";
import type { AdapterMethod } from "../method.js";
import { kaiming, loraPair, loraShape, need, zeros } from "./factors.js";

declare module "../config.js" {
  interface MethodOptions {
    /** MoSLoRA: the r×r mixer's initial values. */
    mixerInit: "kaiming" | "orthogonal";
  }
}

const A = "lora_A.weight";
const B = "lora_B.weight";
const MIXER = "lora_mixer.weight";

/**
 * MoSLoRA (docs/methods.md §4): a learned r×r mixer between the factors, ΔW = s · B M A, applied as
 * s · (x (M A)ᵀ) Bᵀ. The mixer starts kaiming-uniform (or orthogonal), never zero, since B = 0.
 */
export const moslora: AdapterMethod = {
  name: "moslora",
  layers: ["linear", "conv1d"],
  options: [
    {
      key: "mixerInit",
      type: "string",
      default: "kaiming",
      values: ["kaiming", "orthogonal"],
      help: "moslora: the r×r mixer's initial values, kaiming or orthogonal",
    },
  ],
  tensorNames: /lora_(?:A|B|mixer)\.weight/,
  moduleShape: loraShape,
  init(ctx, kind) {
    const { a, b } = loraPair(ctx, kind);
    const mixer =
      ctx.config.mixerInit === "orthogonal"
        ? init.orthogonal_(zeros(ctx, [ctx.r, ctx.r]), ctx.rng)
        : kaiming(ctx, [ctx.r, ctx.r]);
    return new Map([
      [A, a],
      [B, b],
      [MIXER, mixer],
    ]);
  },
  instance(ctx, tensors) {
    const a = need(tensors, A);
    const b = need(tensors, B);
    const mixer = need(tensors, MIXER);
    return { delta: () => lowRank(T.matmul(mixer, a), b, ctx.scale) };
  },
  parameterCount: (m, n, r) => r * (m + n) + r * r,
};
