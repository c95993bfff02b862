import * as T from "../../tensor/index.js";
import { noGrad, type Tensor } from "../../tensor/index.js";
import { type Delta, denseDelta, lowRank } from "../delta.js";
import type { AdapterMethod } from "../method.js";
import type { WeightView } from "../view.js";
import { LORA_TENSORS, loraNames, loraPair, loraShape, need } from "./factors.js";

const MAGNITUDE = "lora_magnitude_vector";
// Floor of a row norm: W0 can have zero rows (Llama-3.1-8B o_proj has 511), where m/‖·‖ would be inf.
const NORM_FLOOR = 1e-12;

/**
 * ‖W0 + ΔW‖ per output row, detached (DoRA §4.3). For a low-rank ΔW = s·B A it uses the factored
 * form of docs/methods.md §2.7, ‖W0‖² + 2s·rowsum((W0 Aᵀ) ⊙ B) + s²·rowsum((B (A Aᵀ)) ⊙ B), so no
 * m×n matrix is formed.
 */
export function rowNorms(view: WeightView, delta: Delta): Tensor {
  return noGrad(() => {
    if (delta.kind === "dense") return T.clamp(T.rowNorm(T.add(view.dense(), delta.w)), NORM_FLOOR);
    const { a, b, scale: s } = delta;
    const cross = T.sum(T.mul(view.weightTimesT(a), b), 1);
    const quad = T.sum(T.mul(T.matmul(b, T.matmul(a, a, { transB: true })), b), 1);
    const sq = T.add(view.rowNormsSq(), T.add(T.mulScalar(cross, 2 * s), T.mulScalar(quad, s * s)));
    return T.sqrt(T.clamp(sq, NORM_FLOOR * NORM_FLOOR));
  });
}

/**
 * DoRA (docs/methods.md §2): W' = m ⊙_row (W0 + s·B A) / ‖W0 + s·B A‖_row, bias not rescaled, with
 * the dropout-correct decomposition y = base + (c − 1)⊙(W0 xd) + c⊙(s·B A xd), c = m / ‖·‖.
 */
export const dora: AdapterMethod = {
  name: "dora",
  layers: ["linear", "conv1d", "embedding"],
  tensorNames: new RegExp(`${LORA_TENSORS.source}|${MAGNITUDE}`),
  moduleShape: loraShape,
  noWeightDecay: new RegExp(MAGNITUDE),
  peft: { type: "LORA", claims: (json) => Boolean(json.use_dora), loraFields: { use_dora: true } },
  init(ctx, kind) {
    const { a, b } = loraPair(ctx, kind);
    const names = loraNames(ctx);
    // The magnitude starts at ‖W0‖_row: ΔW is zero at init (or compensated to zero by "better").
    const magnitude = noGrad(() => T.sqrt(ctx.view.rowNormsSq())).to(ctx.dtype);
    return new Map([
      [names.a, a],
      [names.b, b],
      [MAGNITUDE, magnitude],
    ]);
  },
  instance(ctx, tensors) {
    const names = loraNames(ctx);
    const a = need(tensors, names.a);
    const b = need(tensors, names.b);
    const magnitude = need(tensors, MAGNITUDE);
    return {
      delta: () => lowRank(a, b, ctx.scale),
      forward({ x, dropped, delta, view }) {
        const c = T.div(magnitude, rowNorms(view, delta));
        const scaled = T.mul(view.forward(dropped, { withBias: false, lowRank: asLowRank(delta) }), c);
        // Without dropout x == dropped and y = c ⊙ (W0 + ΔW) x + b; otherwise only the DoRA-extra part is dropped.
        const y =
          dropped === x
            ? scaled
            : T.add(
                T.sub(view.forward(x, { withBias: false }), view.forward(dropped, { withBias: false })),
                scaled,
              );
        return view.bias ? T.add(y, view.bias) : y;
      },
      merge(w0, delta) {
        const dw = denseDelta(delta);
        const full = T.add(w0, dw);
        // The norm is taken from W0 + ΔW now and kept: it cannot be recovered from the merged weight.
        const c = T.reshape(T.div(magnitude, T.clamp(T.rowNorm(full), NORM_FLOOR)), [ctx.view.m, 1]);
        return { weight: T.mul(full, c), unmerge: (merged) => T.sub(T.div(merged, c), dw) };
      },
    };
  },
  parameterCount: (m, n, r) => r * (m + n) + m,
};

function asLowRank(delta: Delta): { a: Tensor; b: Tensor; scale: number } {
  if (delta.kind !== "low-rank") throw new Error("DoRA's update is always low-rank");
  return delta;
}
