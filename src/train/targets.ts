import type { PeftModel } from "../adapters/index.js";
import { loadModel, type PretrainedModel, saveModel } from "../models/index.js";
import { type Generator, noGrad, type Tensor } from "../tensor/index.js";
import type { Batch } from "./tasks.js";
import type { TrainTarget } from "./trainer.js";

type TaskModel = { forward(ids: Tensor, input: { attentionMask: Tensor }): Tensor };

/** Trains a PeftModel's active adapter; checkpoints hold the adapter in PEFT format. */
export function adapterTarget(peft: PeftModel): TrainTarget {
  return {
    forward: (batch: Batch) => peft.forward(batch.ids, { attentionMask: batch.attentionMask }),
    parameters: () => peft.trainableParameters(),
    save: (dir) => peft.save(dir),
    load: (dir) => peft.loadWeights(dir),
    train: (mode) => void peft.model.train(mode),
  };
}

/** The per-step hook an adapter needs from the trainer: DyLoRA draws its rank for the step. */
export function adapterStepHook(peft: PeftModel): (step: number, rng: Generator) => void {
  return (_, rng) => {
    if (peft.config().method === "dylora") peft.sampleRank(rng);
  };
}

/** After training, DyLoRA goes back to its full rank (the one saved and evaluated by default). */
export function finishAdapter(peft: PeftModel): void {
  if (peft.config().method === "dylora") peft.setRank(peft.config().r);
}

/** Full fine-tuning: every parameter trains; checkpoints hold the whole model as an HF folder. */
export function fullModelTarget(model: PretrainedModel): TrainTarget {
  model.requiresGrad(true);
  return {
    forward: (batch: Batch) =>
      (model as unknown as TaskModel).forward(batch.ids, { attentionMask: batch.attentionMask }),
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

/** Only the named modules (a task head such as "score") train; checkpoints hold the whole model. */
export function headOnlyTarget(model: PretrainedModel, modules: readonly string[]): TrainTarget {
  const target = fullModelTarget(model);
  const inHead = (name: string): boolean =>
    modules.some((m) => name.startsWith(`${m}.`) || name.includes(`.${m}.`));
  let any = false;
  for (const [name, t] of model.namedParameters()) {
    t.requiresGrad = inHead(name);
    any ||= t.requiresGrad;
  }
  if (!any) throw new Error(`head-only training: the model has no module named ${modules.join(" or ")}`);
  return target;
}
