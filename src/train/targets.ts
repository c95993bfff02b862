import type { PeftModel } from "../adapters/index.js";
import { isCausalLM, loadModel, type PretrainedModel, saveModel } from "../models/index.js";
import { dropoutStates, seedDropout, setDropoutStates } from "../nn/index.js";
import { type Generator, type GeneratorState, noGrad } from "../tensor/index.js";
import { nextTokenLoss } from "./lm-loss.js";
import type { Batch } from "./tasks.js";
import type { TrainTarget } from "./trainer.js";

/**
 * Trains a PeftModel's active adapter; checkpoints hold the adapter in PEFT format. Its method's
 * training hooks ride along (DyLoRA draws its rank before each step, returns to its full rank after).
 */
export function adapterTarget(peft: PeftModel): TrainTarget {
  const model = peft.model;
  return {
    forward: (batch: Batch) => peft.forward(batch.ids, { attentionMask: batch.attentionMask }),
    ...(isCausalLM(model) ? { causalLoss: (batch: Batch) => nextTokenLoss(model, batch) } : {}),
    parameters: () => peft.trainableParameters(),
    weightsName: "adapter",
    save: (dir) => peft.save(dir),
    load: (dir) => peft.loadWeights(dir),
    train: (mode) => void peft.model.train(mode),
    beginStep: (_, rng: Generator) => peft.beginTrainingStep(rng),
    endTraining: () => peft.endTraining(),
    noWeightDecay: (name) => peft.noWeightDecay(name),
    seedDropout: (seed) => seedDropout(model, seed),
    randomState: () => {
      const active = peft.activeAdapter;
      const states: Record<string, GeneratorState> = dropoutStates(model);
      for (const [path, layer] of peft.layers()) {
        const g = active === null ? undefined : layer.dropoutGenerator(active);
        if (g) states[path] = g.getState();
      }
      return states;
    },
    setRandomState: (states) => {
      setDropoutStates(model, states);
      const active = peft.activeAdapter;
      for (const [path, layer] of peft.layers()) {
        const g = active === null ? undefined : layer.dropoutGenerator(active);
        if (g && states[path]) g.setState(states[path]);
      }
    },
  };
}

/** Full fine-tuning: every parameter trains; checkpoints hold the whole model as an HF folder. */
export function fullModelTarget(model: PretrainedModel): TrainTarget {
  model.widenHalves().requiresGrad(true);
  return {
    forward: (batch: Batch) => model.forward(batch.ids, { attentionMask: batch.attentionMask }),
    ...(isCausalLM(model) ? { causalLoss: (batch: Batch) => nextTokenLoss(model, batch) } : {}),
    parameters: () => model.namedParameters().filter(([, t]) => t.requiresGrad),
    weightsName: "model",
    save: (dir) => saveModel(model, dir),
    load: (dir) => {
      const saved = loadModel(dir, { dtype: model.parameters()[0]?.dtype ?? "float32" });
      noGrad(() => {
        const own = model.stateDict();
        for (const [k, t] of saved.stateDict()) own.get(k)?.data.set(t.data);
      });
    },
    train: (mode) => void model.train(mode),
    seedDropout: (seed) => seedDropout(model, seed),
    randomState: () => dropoutStates(model),
    setRandomState: (states) => setDropoutStates(model, states),
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
