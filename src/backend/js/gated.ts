import type { FloatArray, GatedActivation } from "../backend.js";
import { geluGrad, geluOf, geluTanhGrad, geluTanhOf, siluGrad, siluOf } from "./elementwise.js";

const ACTIVATIONS: Record<GatedActivation, [(v: number) => number, (v: number, g: number) => number]> = {
  silu: [siluOf, siluGrad],
  gelu: [geluOf, geluGrad],
  gelu_tanh: [geluTanhOf, geluTanhGrad],
};

// Each intermediate is stored before it is used, so it is rounded to the arrays' precision where
// the unfused kernels round it: the results are theirs, bit for bit.

/** out = act(g) · u. */
export function gatedActivation(act: GatedActivation, g: FloatArray, u: FloatArray, out: FloatArray): void {
  const [f] = ACTIVATIONS[act];
  for (let i = 0; i < g.length; i++) {
    out[i] = f(g[i]);
    out[i] *= u[i];
  }
}

/** gg = act'(g) · (gy · u), gu = gy · act(g). */
export function gatedActivationGrad(
  act: GatedActivation,
  g: FloatArray,
  u: FloatArray,
  gy: FloatArray,
  gg: FloatArray,
  gu: FloatArray,
): void {
  const [f, grad] = ACTIVATIONS[act];
  for (let i = 0; i < g.length; i++) {
    gg[i] = gy[i] * u[i];
    gg[i] = grad(g[i], gg[i]);
    gu[i] = f(g[i]);
    gu[i] *= gy[i];
  }
}
