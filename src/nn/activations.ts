import * as T from "../tensor/index.js";
import type { GatedActivation, Tensor } from "../tensor/index.js";

export type ActivationFn = (x: Tensor) => Tensor;
/** A gated MLP's activation act(gate) · up. */
export type GatedActivationFn = (gate: Tensor, up: Tensor) => Tensor;

/** The activations the fused gated kernel also takes. */
const KERNELS: Record<GatedActivation, ActivationFn> = {
  silu: T.silu,
  gelu: (x) => T.gelu(x, "none"),
  gelu_tanh: (x) => T.gelu(x, "tanh"),
};

/**
 * transformers' ACT2FN by the names configs use (hidden_act, activation_function): one of the
 * kernels above, or a composition of tensor ops, so each has its gradient. The tanh forms
 * (gelu_new, gelu_fast, gelu_accurate, gelu_pytorch_tanh) are one formula; names not here (mish,
 * laplace, prelu, xielu) are refused at load (docs/models.md).
 */
const ACTIVATIONS: Record<string, GatedActivation | ActivationFn> = {
  gelu: "gelu",
  gelu_python: "gelu",
  gelu_new: "gelu_tanh",
  gelu_fast: "gelu_tanh",
  gelu_accurate: "gelu_tanh",
  gelu_pytorch_tanh: "gelu_tanh",
  gelu_python_tanh: "gelu_tanh",
  gelu_10: (x) => T.clamp(KERNELS.gelu(x), -10, 10),
  quick_gelu: (x) => T.mul(x, T.sigmoid(T.mulScalar(x, 1.702))),
  silu: "silu",
  swish: "silu",
  relu: T.relu,
  relu2: (x) => T.powScalar(T.relu(x), 2),
  relu6: (x) => T.clamp(x, 0, 6),
  leaky_relu: (x) => T.maximum(x, T.mulScalar(x, 0.01)),
  sigmoid: T.sigmoid,
  tanh: T.tanh,
  linear: (x) => x,
};

export const activationNames = (): string[] => Object.keys(ACTIVATIONS);

/** The activation transformers calls `name`, or undefined when morelora lacks it. */
export function activationByName(name: string): ActivationFn | undefined {
  if (!Object.hasOwn(ACTIVATIONS, name)) return undefined;
  const entry = ACTIVATIONS[name];
  return typeof entry === "string" ? KERNELS[entry] : entry;
}

/**
 * act(gate) · up for the activation transformers calls `name` (undefined when morelora lacks it):
 * the fused op where the activation is one of its kernels (the same values, and act(gate) is not
 * kept for the backward, docs/memory.md), else the activation and a product.
 */
export function gatedActivationByName(name: string): GatedActivationFn | undefined {
  if (!Object.hasOwn(ACTIVATIONS, name)) return undefined;
  const entry = ACTIVATIONS[name];
  if (typeof entry === "string") return (gate, up) => T.gatedActivation(gate, up, entry);
  return (gate, up) => T.mul(entry(gate), up);
}
