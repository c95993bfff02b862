import { buildModel, type PretrainedModel } from "../../src/models/index.js";
import { type DType, Generator, noGrad } from "../../src/tensor/index.js";

/** The model a config.json object describes, built in memory with normal(0, std) weights; in eval mode, as loadModel gives it. */
export function randomModel(
  config: Record<string, unknown>,
  { dtype = "float32" as DType, seed = 1, std = 0.3 } = {},
): PretrainedModel {
  const model = buildModel(config, { dtype });
  const rng = new Generator(seed);
  noGrad(() => {
    for (const [, t] of model.namedParameters())
      for (let i = 0; i < t.size; i++) t.data[i] = rng.normal(0, std);
  });
  return model.eval();
}
