export {
  type ActivationFn,
  activationByName,
  activationNames,
  type GatedActivationFn,
  gatedActivationByName,
} from "./activations.js";
export * as init from "./init.js";
export { Conv1D, Dropout, Embedding, LayerNorm, type LayerOptions, Linear, RMSNorm } from "./layers.js";
export { LayerStack } from "./layer-stack.js";
export { type Children, type Layer, Module, ModuleList, type StateDict } from "./module.js";
