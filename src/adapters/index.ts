export {
  type AdapterConfig,
  type AdapterConfigInput,
  type BiasMode,
  defaultConfig,
  type InitMode,
  type MethodOptions,
  resolveConfig,
} from "./config.js";
export { type Delta, denseDelta } from "./delta.js";
export { readAdapterFolder } from "./peft/folder.js";
export { type AdapterSummary, inspectAdapter } from "./peft/inspect.js";
export { mergeAdapterFolder } from "./peft/merge.js";
export { AdapterLayer } from "./layer.js";
export { ModulesToSaveLayer } from "./saved-modules.js";
export type {
  AdapterMethod,
  InitKind,
  MethodContext,
  MethodInstance,
  MethodOption,
  ModuleShape,
  PeftMapping,
  TrainingAdapter,
  TrainingHooks,
} from "./method.js";
export { allMethods, methodNamed, methodNames, optionTable, registerMethod } from "./methods/index.js";
export type { Activation } from "./methods/hadamard-product.js";
export { fromPeftConfig, peftTypeOf, toPeftConfig } from "./peft/config.js";
export { getPeftModel, PeftModel, type TrainableSummary } from "./peft-model.js";
export { matchesSavedModule, SEQ_CLS_HEAD_NAMES } from "./saved-modules.js";
export { WeightView } from "./view.js";
