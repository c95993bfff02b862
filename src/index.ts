/**
 * morelora's public API (docs/architecture.md): the names a PEFT user reaches for at the top,
 * everything else in namespaces. Importing it loads the native backend when it was built.
 */
import "./backend/native.js";

export { type AdapterConfig, type AdapterConfigInput, getPeftModel, PeftModel } from "./adapters/index.js";
export { generate, HFTokenizer, loadModel, PretrainedModel, saveModel } from "./models/index.js";
export { type JobOptions, type TrainConfig, Trainer, type TrainerOptions, trainJob } from "./train/index.js";
export { Tensor } from "./tensor/index.js";

/** Tensor creation and the differentiable ops (matmul, softmax, ...), autograd, the seeded Generator. */
export * as ops from "./tensor/index.js";
/** Modules: Module, Linear, Conv1D, Embedding, norms, Dropout, init. */
export * as nn from "./nn/index.js";
/** safetensors, model weight folders, atomic file writes. */
export * as io from "./io/index.js";
/** The adapter methods' registry (registerMethod, optionTable), adapter folders (merge, inspect). */
export * as adapters from "./adapters/index.js";
/** Architectures (LlamaForCausalLM, Gpt2LMHeadModel, BertModel, ...) and their registry. */
export * as models from "./models/index.js";
/** Optimizers, schedules, data, evaluation, method comparison. */
export * as train from "./train/index.js";
/** Kernel backends: setBackend, getBackend, availableBackends. */
export * as backend from "./backend/index.js";
/** The native addon: nativeInfo, setNativeThreads. */
export * as native from "./backend/native.js";
