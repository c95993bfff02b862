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
export { nextTokenLoss, nextTokenTargets } from "./lm-loss.js";
export { readRecords } from "./records.js";
export {
  checkOption,
  flagName,
  JOB_OPTIONS,
  jobOptions,
  optionDefaults,
  optionNamed,
  type OptionSpec,
  parseOptionText,
} from "./options.js";
export { lrFactor, type ScheduleName } from "./schedule.js";
export { adapterTarget, fullModelTarget, headOnlyTarget } from "./targets.js";
export {
  type Batch,
  type CausalLmData,
  causalRecordKind,
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
  type TrainerOptions,
  TrainingError,
  type TrainTarget,
} from "./trainer.js";
export {
  assembleJob,
  evalJob,
  type JobData,
  type JobHooks,
  type JobInput,
  type JobOptions,
  type JobResult,
  jobTrainer,
  loadTaskModel,
  type PreparedJob,
  prepareJob,
  trainJob,
} from "./job.js";
export * from "./compare/index.js";
