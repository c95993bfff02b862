export {
  type ActivationFn,
  activationByName,
  activationNames,
  type GatedActivationFn,
  gatedActivationByName,
} from "./activations.js";
export * as init from "./init.js";
export { Dropout, dropoutModules, dropoutStates, seedDropout, setDropoutStates } from "./dropout.js";
export { Conv1D, Embedding, LayerNorm, type LayerOptions, Linear, RMSNorm } from "./layers.js";
export { LayerStack } from "./layer-stack.js";
export { type Children, type Layer, Module, ModuleList, type StateDict } from "./module.js";
