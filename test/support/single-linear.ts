import { Linear, Module } from "../../src/nn/index.js";
import type { DType, Tensor } from "../../src/tensor/index.js";
import * as T from "../../src/tensor/index.js";

/** The fixtures' SingleLinear: y = proj(x). */
export class SingleLinear extends Module {
  constructor(inFeatures: number, outFeatures: number, { bias = true, dtype = "float32" as DType } = {}) {
    super();
    this.registerModule("proj", new Linear(inFeatures, outFeatures, { bias, dtype }));
  }

  forward(x: Tensor): Tensor {
    return (this.child("proj") as Linear).forward(x);
  }
}

/** A SingleLinear with the given weight [out, in] and bias, in float64. */
export function linearWith(weight: number[][], bias: number[] | null): SingleLinear {
  const model = new SingleLinear(weight[0].length, weight.length, { bias: bias !== null, dtype: "float64" });
  const proj = model.child("proj") as Linear;
  proj.weight.data.set(weight.flat());
  if (bias) proj.bias!.data.set(bias);
  return model;
}

export const f64 = (values: number[][] | number[]): Tensor => T.tensor(values, { dtype: "float64" });
