import type { AdapterConfig } from "../config.js";
import type { AdapterMethod } from "../method.js";
import { kaiming, need, zeros } from "./factors.js";
import { hadamardDelta } from "./hadamard-product.js";

const NAMES = ["hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b"] as const;

/** The fields PEFT 0.20.0 writes for a LoHaConfig. */
function lohaFields(c: AdapterConfig): Record<string, unknown> {
  return {
    alpha: c.alpha,
    alpha_pattern: c.alphaPattern,
    auto_mapping: null,
    base_model_name_or_path: null,
    exclude_modules: null,
    inference_mode: true,
    init_weights: true,
    layers_pattern: c.layersPattern,
    layers_to_transform: c.layersToTransform,
    module_dropout: 0,
    modules_to_save: c.modulesToSave.length ? c.modulesToSave : null,
    peft_type: "LOHA",
    peft_version: "0.20.0",
    r: c.r,
    rank_dropout: 0,
    rank_pattern: c.rankPattern,
    revision: null,
    target_modules: c.targetModules,
    task_type: null,
    use_effective_conv2d: false,
  };
}

/**
 * LoHa / FedPara (PEFT's LOHA, docs/methods.md §6): ΔW = s · (w1a w1b) ⊙ (w2a w2b) with every pair at
 * the full rank r; w1a, w1b, w2a kaiming-uniform, w2b zero, as PEFT does.
 */
export const loha: AdapterMethod = {
  name: "loha",
  layers: ["linear", "conv1d"],
  tensorNames: /hada_w[12]_[ab]/,
  moduleShape: (tensors) => {
    const [w1a, w1b] = [tensors.get("hada_w1_a"), tensors.get("hada_w1_b")];
    return w1a && w1b ? { kind: "linear", m: w1a.shape[0], n: w1b.shape[1] } : null;
  },
  peft: {
    type: "LOHA",
    layers: ["linear"],
    own: { write: lohaFields, read: (json) => ({ alpha: (json.alpha ?? 8) as number }) },
  },
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
