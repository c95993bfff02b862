import * as T from "../tensor/index.js";
import type { Tensor } from "../tensor/index.js";

export type ActivationFn = (x: Tensor) => Tensor;

const geluErf: ActivationFn = (x) => T.gelu(x, "none");
const geluTanh: ActivationFn = (x) => T.gelu(x, "tanh");

/**
 * transformers' ACT2FN by the names configs use (hidden_act, activation_function), built from
 * tensor ops so each has its gradient. The tanh forms (gelu_new, gelu_fast, gelu_accurate,
 * gelu_pytorch_tanh) are one formula; names not here (mish, laplace, prelu, xielu) are refused
 * at load (docs/models.md).
 */
const ACTIVATIONS: Record<string, ActivationFn> = {
  gelu: geluErf,
  gelu_python: geluErf,
  gelu_new: geluTanh,
  gelu_fast: geluTanh,
  gelu_accurate: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu_python_tanh: geluTanh,
  gelu_10: (x) => T.clamp(geluErf(x), -10, 10),
  quick_gelu: (x) => T.mul(x, T.sigmoid(T.mulScalar(x, 1.702))),
  silu: T.silu,
  swish: T.silu,
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
  return Object.hasOwn(ACTIVATIONS, name) ? ACTIVATIONS[name] : undefined;
}
