import type { PeftModel } from "../adapters/index.js";
import { isCausalLM, loadModel, type PretrainedModel, saveModel } from "../models/index.js";
import { type Generator, noGrad, type Tensor } from "../tensor/index.js";
import { nextTokenLoss } from "./lm-loss.js";
import type { Batch } from "./tasks.js";
import type { TrainTarget } from "./trainer.js";

type TaskModel = { forward(ids: Tensor, input: { attentionMask: Tensor }): Tensor };

/**
 * Trains a PeftModel's active adapter; checkpoints hold the adapter in PEFT format. The adapter's
 * step hooks ride along: DyLoRA draws its rank before each step and returns to its full rank after.
 */
export function adapterTarget(peft: PeftModel): TrainTarget {
  const model = peft.model;
  return {
    forward: (batch: Batch) => peft.forward(batch.ids, { attentionMask: batch.attentionMask }),
    ...(isCausalLM(model) ? { causalLoss: (batch: Batch) => nextTokenLoss(model, batch) } : {}),
    parameters: () => peft.trainableParameters(),
    save: (dir) => peft.save(dir),
    load: (dir) => peft.loadWeights(dir),
    train: (mode) => void peft.model.train(mode),
    beginStep: (_, rng: Generator) => {
      if (peft.config().method === "dylora") peft.sampleRank(rng);
    },
    endTraining: () => {
      if (peft.config().method === "dylora") peft.setRank(peft.config().r);
    },
  };
}

/** Full fine-tuning: every parameter trains; checkpoints hold the whole model as an HF folder. */
export function fullModelTarget(model: PretrainedModel): TrainTarget {
  model.widenHalves().requiresGrad(true);
  return {
    forward: (batch: Batch) =>
      (model as unknown as TaskModel).forward(batch.ids, { attentionMask: batch.attentionMask }),
    ...(isCausalLM(model) ? { causalLoss: (batch: Batch) => nextTokenLoss(model, batch) } : {}),
    parameters: () => model.namedParameters().filter(([, t]) => t.requiresGrad),
    save: (dir) => saveModel(model, dir),
    load: (dir) => {
      const saved = loadModel(dir, { dtype: model.parameters()[0]?.dtype ?? "float32" });
      noGrad(() => {
        const own = model.stateDict();
        for (const [k, t] of saved.stateDict()) own.get(k)?.data.set(t.data);
      });
    },
    train: (mode) => void model.train(mode),
  };
}
