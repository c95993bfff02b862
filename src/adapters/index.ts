export {
  type Activation,
  type AdapterConfig,
  type AdapterConfigInput,
  type BiasMode,
  DEFAULT_CONFIG,
  type InitMode,
  METHOD_NAMES,
  type MethodName,
  resolveConfig,
} from "./config.js";
export { type Delta, denseDelta } from "./delta.js";
export { adapterTensors, readAdapterFolder } from "./format.js";
export { AdapterLayer } from "./layer.js";
export { ModulesToSaveLayer } from "./saved-modules.js";
export type { AdapterMethod, InitKind, MethodContext, MethodInstance } from "./method.js";
export { METHODS } from "./methods/index.js";
export { fromPeftConfig, peftTypeOf, toPeftConfig } from "./peft-config.js";
export { getPeftModel, PeftModel, type TrainableSummary } from "./peft-model.js";
export { WeightView } from "./view.js";
