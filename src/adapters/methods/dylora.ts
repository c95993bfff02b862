import * as T from "../../tensor/index.js";
import type { Tensor } from "../../tensor/index.js";
import { lowRank } from "../delta.js";
import type { AdapterMethod } from "../method.js";
import { loraPair, loraShape, need } from "./factors.js";

declare module "../config.js" {
  interface MethodOptions {
    /** DyLoRA: only the newest sampled rank component learns each step (the reference code's mode). */
    dyloraFrozen: boolean;
    /** DyLoRA: the rank used outside training (eval, merge, save); null means r. */
    dyloraRank: number | null;
  }
}

const A = "lora_A.weight";
const B = "lora_B.weight";

/** The first k rows of t along axis; with frozen, rows before k−1 are cut from the graph. */
function leading(t: Tensor, axis: number, k: number, frozen: boolean): Tensor {
  if (!frozen || k === 1) return T.slice(t, axis, 0, k);
  return T.concat([T.slice(t, axis, 0, k - 1).detach(), T.slice(t, axis, k - 1, k)], axis);
}

/**
 * DyLoRA (docs/methods.md §5): LoRA at r_max whose active rank k is chosen per step (the trainer's
 * rank hook) or set explicitly; ΔW_k = (α / k) · B[:, :k] A[:k, :]. In frozen mode, while
 * training, only component k−1 receives gradients.
 */
export const dylora: AdapterMethod = {
  name: "dylora",
  layers: ["linear", "conv1d"],
  options: [
    {
      key: "dyloraFrozen",
      type: "boolean",
      default: true,
      help: "dylora: only the newest sampled rank component learns each step",
    },
    {
      key: "dyloraRank",
      type: "integer",
      default: null,
      min: 1,
      nullable: true,
      help: "dylora: the rank used outside training (eval, merge, save); default r",
    },
  ],
  tensorNames: /lora_[AB]\.weight/,
  moduleShape: loraShape,
  rankOption: "dyloraRank",
  training: {
    // One rank in 1..r for every module this step.
    beginStep: (adapter, rng) =>
      adapter.applyRank(rng.int(adapter.config.r) + 1, adapter.config.dyloraFrozen),
    end: (adapter) => adapter.setRank(adapter.config.r),
  },
  init(ctx, kind) {
    const { a, b } = loraPair(ctx, kind);
    return new Map([
      [A, a],
      [B, b],
    ]);
  },
  instance(ctx, tensors) {
    const a = need(tensors, A);
    const b = need(tensors, B);
    let rank = Math.min(ctx.config.dyloraRank ?? ctx.r, ctx.r);
    let frozen = false;
    const norm = (k: number): number => (ctx.config.useRslora ? ctx.alpha / Math.sqrt(k) : ctx.alpha / k);
    return {
      delta: () => lowRank(leading(a, 0, rank, frozen), leading(b, 1, rank, frozen), norm(rank)),
      setRank(k, freeze) {
        if (!Number.isInteger(k) || k < 1)
          throw new Error(`DyLoRA rank must be a positive integer, got ${k}`);
        rank = Math.min(k, ctx.r);
        frozen = freeze;
      },
    };
  },
  parameterCount: (m, n, r) => r * (m + n),
};
