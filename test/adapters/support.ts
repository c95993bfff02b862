import { type AdapterConfigInput, methodNames, type PeftModel } from "../../src/adapters/index.js";
import { Generator, noGrad, type Tensor } from "../../src/tensor/index.js";
import * as T from "../../src/tensor/index.js";
import { TinyDecoder } from "../support/tiny-decoder.js";

/** A small random TinyDecoder in float64 (2 layers, so shared maps are shared). */
export function smallDecoder(seed = 1): TinyDecoder {
  const model = new TinyDecoder({ vocab_size: 16, hidden_size: 8, intermediate_size: 12, num_layers: 2 });
  const rng = new Generator(seed);
  noGrad(() => {
    for (const [, t] of model.namedParameters())
      for (let i = 0; i < t.size; i++) t.data[i] = rng.normal(0, 0.5);
  });
  return model.toDType("float64");
}

export const IDS = T.tensor(
  [
    [1, 5, 2, 9, 3],
    [7, 0, 4, 4, 15],
  ],
  { dtype: "int32" },
);

/**
 * Every method and option the invariants run over: each registered method plain and with the
 * "better" init, then the options worth a case of their own; on square Linear, non-square Linear
 * and Conv1D targets.
 */
export const CASES: { label: string; config: Omit<AdapterConfigInput, "targetModules"> }[] = [
  ...methodNames().flatMap((method) => [
    { label: method, config: { method } },
    { label: `${method} better`, config: { method, init: "better" as const } },
  ]),
  {
    label: "lora rslora + patterns",
    config: {
      method: "lora",
      useRslora: true,
      rankPattern: { gate_proj: 2 },
      alphaPattern: { "layers\\.1\\.self_attn\\.q_proj": 3 },
    },
  },
  { label: "lora gaussian", config: { method: "lora", init: "gaussian" } },
  { label: "moslora orthogonal", config: { method: "moslora", mixerInit: "orthogonal" } },
  { label: "hadamard k=4 tanh", config: { method: "hadamard", k: 4, activation: "tanh" } },
  { label: "hadamard sigmoid better", config: { method: "hadamard", activation: "sigmoid", init: "better" } },
];

export const TARGETS = ["q_proj", "gate_proj", "down_proj"];

/** Gives every trainable tensor random values, so that ΔW ≠ 0. */
export function perturb(peft: PeftModel, seed = 3): void {
  const rng = new Generator(seed);
  noGrad(() => {
    for (const [, t] of peft.trainableParameters())
      for (let i = 0; i < t.size; i++) t.data[i] += rng.normal(0, 0.3);
  });
}

export const logits = (peft: PeftModel): Tensor => noGrad(() => peft.forward(IDS));
