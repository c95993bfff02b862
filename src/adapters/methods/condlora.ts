import * as T from "../../tensor/index.js";
import { formatShape, type Tensor } from "../../tensor/index.js";
import { lowRank } from "../delta.js";
import type { AdapterMethod, InitKind, MethodContext } from "../method.js";
import { kaiming, zeros } from "./factors.js";

/**
 * The maps shared by every module of one type: Θ_B [r, n] always; for square W0 the paper's
 * Θ_A [r, n], for m ≠ n morelora's extension Φ_A [r, m] (docs/methods.md §8).
 */
function maps(
  ctx: MethodContext,
  kind: InitKind | null,
): { thetaA: Tensor; thetaB: Tensor; square: boolean } {
  const { m, n } = ctx.view;
  const square = m === n;
  const get = (name: string, shape: number[], make: () => Tensor): Tensor => {
    const t = ctx.shared(name, () => {
      if (!kind) throw new Error(`condlora: shared map "${ctx.moduleType}.${name}" was never created`);
      return make();
    });
    if (t.shape.length !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) {
      throw new Error(
        `condlora: every "${ctx.moduleType}" module must have one shape to share its maps; ${ctx.path} needs ${name} ${formatShape(shape)}, the shared one is ${formatShape(t.shape)}`,
      );
    }
    return t;
  };
  const aName = square ? "theta_A.weight" : "phi_A.weight";
  const aShape = square ? [ctx.r, n] : [ctx.r, m];
  return {
    thetaA: get(aName, aShape, () => kaiming(ctx, aShape)),
    thetaB: get("theta_B.weight", [ctx.r, n], () =>
      kind === "nonzero" ? kaiming(ctx, [ctx.r, n]) : zeros(ctx, [ctx.r, n]),
    ),
    square,
  };
}

/**
 * CondLoRA (docs/methods.md §3): one pair of linear maps per module type, shared by all layers, turns
 * each layer's frozen W0 into its factors: B = W0 Θ_Bᵀ, A = Θ_A W0ᵀ (square W0), or A = Φ_A W0
 * (m ≠ n, morelora's extension). ΔW = s · B A, applied through the factors.
 */
export const condlora: AdapterMethod = {
  name: "condlora",
  layers: ["linear", "conv1d"],
  sharedPrefix: "condlora",
  init(ctx, kind) {
    maps(ctx, kind);
    return new Map();
  },
  instance(ctx) {
    const { thetaA, thetaB, square } = maps(ctx, null);
    const { view } = ctx;
    return {
      delta: () => {
        const b = view.weightTimesT(thetaB);
        const a = square ? T.transpose(view.weightTimesT(thetaA)) : view.tTimesWeight(thetaA);
        return lowRank(a, b, ctx.scale);
      },
    };
  },
  parameterCount: () => 0,
  sharedParameterCount: (m, n, r) => (m === n ? 2 * r * n : r * (m + n)),
};
