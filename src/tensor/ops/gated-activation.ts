import { type GatedActivation, getBackend } from "../../backend/index.js";
import { record } from "../autograd.js";
import { empty, formatShape, Tensor } from "../tensor.js";

export type { GatedActivation };

/**
 * act(g) · u, the gated MLP's activation (Llama, Qwen2, Mistral: act is SiLU), as one op: the
 * same values as mul(act(g), u), in one pass, and the backward keeps only g and u, not act(g)
 * (docs/memory.md).
 */
export function gatedActivation(g: Tensor, u: Tensor, act: GatedActivation): Tensor {
  const upShape = u.shape;
  if (g.ndim !== u.ndim || g.shape.some((d, i) => d !== upShape[i]) || g.dtype !== u.dtype)
    throw new Error(
      `gatedActivation: gate ${g.dtype} ${formatShape(g.shape)} and up ${u.dtype} ${formatShape(u.shape)} differ`,
    );
  const out = new Tensor(empty(g.dtype, g.size), g.shape);
  getBackend().gatedActivation(act, g.floatData, u.floatData, out.floatData);
  const [gd, ud] = [g.floatData, u.floatData];
  const [trainG, trainU] = [g.requiresGrad, u.requiresGrad];
  const { dtype, shape } = g;
  return record(out, "gatedActivation", [g, u], (grad) => {
    const gg = new Tensor(empty(dtype, gd.length), shape);
    const gu = new Tensor(empty(dtype, gd.length), shape);
    getBackend().gatedActivationGrad(act, gd, ud, grad.floatData, gg.floatData, gu.floatData);
    return [trainG ? gg : null, trainU ? gu : null];
  });
}
