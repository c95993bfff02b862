export { classificationMetrics } from "./metrics.js";
export {
  AdamW,
  type AdamWOptions,
  defaultParamGroups,
  type NamedParameter,
  type OptimizerState,
  type ParamGroup,
  SGD,
  type SgdOptions,
} from "./optimizer.js";
export { readRecords } from "./records.js";
export { lrFactor, type ScheduleName } from "./schedule.js";
export { adapterStepHook, adapterTarget, finishAdapter, fullModelTarget, headOnlyTarget } from "./targets.js";
export {
  type Batch,
  type CausalLmData,
  type ClassificationData,
  collate,
  type Example,
  examplesFromRecords,
  loadExamples,
  shuffled,
  splitExamples,
  type TaskData,
  taskLoss,
  type TextEncoder,
} from "./tasks.js";
export {
  DEFAULT_TRAIN_CONFIG,
  type EvalResult,
  type LogEntry,
  type TrainConfig,
  Trainer,
  type TrainerHooks,
  TrainingError,
  type TrainTarget,
} from "./trainer.js";
export { evalJob, type JobOptions, type JobResult, prepareJob, trainJob } from "./job.js";
export * from "./compare/index.js";
