import * as T from "../../tensor/index.js";
import { lowRank } from "../delta.js";
import type { AdapterMethod } from "../method.js";
import { kaiming, loraShape, need, tiledIdentities, zeros } from "./factors.js";

const A = "lora_A.weight";
const B = "lora_B.weight";

/**
 * Additive LoRA (MoreLoRA, docs/methods.md §1.2): ΔW = s · (B I_A + I_B A) with the tiled identities
 * I_A [r, n], I_B [m, r]; ΔW[p, q] = s · (B[p, q mod r] + A[p mod r, q]). It is the rank-2r
 * product [B, I_B][I_A; A], applied without forming ΔW. A = B = 0 at init: each factor's
 * gradient does not depend on the other, so it trains from zero.
 */
export const additive: AdapterMethod = {
  name: "additive",
  layers: ["linear", "conv1d"],
  tensorNames: /lora_[AB]\.weight/,
  moduleShape: loraShape,
  init(ctx, kind) {
    const { m, n } = ctx.view;
    const random = kind === "nonzero";
    return new Map([
      [A, random ? kaiming(ctx, [ctx.r, n]) : zeros(ctx, [ctx.r, n])],
      [B, random ? kaiming(ctx, [m, ctx.r]) : zeros(ctx, [m, ctx.r])],
    ]);
  },
  instance(ctx, tensors) {
    const a = need(tensors, A);
    const b = need(tensors, B);
    const { ia, ib } = tiledIdentities(ctx, ctx.r);
    return { delta: () => lowRank(T.concat([ia, a], 0), T.concat([b, ib], 1), ctx.scale) };
  },
  parameterCount: (m, n, r) => r * (m + n),
};
