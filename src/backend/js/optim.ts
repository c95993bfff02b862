import type { AdamWArgs, FloatArray } from "../backend.js";

export function adamw(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, a: AdamWArgs): void {
  const bc1 = 1 - a.beta1 ** a.step;
  const bc2 = 1 - a.beta2 ** a.step;
  const stepSize = a.lr / bc1;
  const sqrtBc2 = Math.sqrt(bc2);
  const decay = 1 - a.lr * a.weightDecay;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    const mi = a.beta1 * m[i] + (1 - a.beta1) * g;
    const vi = a.beta2 * v[i] + (1 - a.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + a.eps);
  }
}
