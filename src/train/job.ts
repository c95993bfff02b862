import { join } from "node:path";
import { type AdapterConfigInput, getPeftModel, PeftModel, SEQ_CLS_HEAD_NAMES } from "../adapters/index.js";
import { joinPath, readJsonFile, writeDirAtomic } from "../io/index.js";
import { HFTokenizer, loadModel, type PretrainedModel, sequenceClassifierFields } from "../models/index.js";
import { type Example, loadExamples, splitExamples, type TaskData } from "./tasks.js";
import { optionDefaults } from "./options.js";
import { adapterTarget, fullModelTarget } from "./targets.js";
import {
  type EvalResult,
  type TrainConfig,
  Trainer,
  type TrainerHooks,
  type TrainTarget,
} from "./trainer.js";

/** Everything a training or evaluation run is told: files, task, adapter and loop settings. */
export interface JobOptions {
  model: string;
  data: string;
  /** A validation file; else valRatio of data is held out. */
  validation?: string | null;
  valRatio: number;
  /** Seed of the valRatio split (default: the training seed); compare fixes it so every seed sees one split. */
  splitSeed?: number;
  task: "causal-lm" | "classification";
  textField: string;
  promptField?: string | null;
  completionField?: string | null;
  labelField: string;
  /** Class names; defaults to the model config's id2label. */
  labels?: string[] | null;
  maxLength: number;
  pack: boolean;
  /** Causal LM: loss on completions / assistant turns only (default true). */
  maskPrompt?: boolean;
  /** Train every parameter instead of an adapter. */
  full: boolean;
  /** Recompute each transformer block in the backward instead of keeping its activations. */
  gradCheckpoint?: boolean;
  /** Load bf16/f16 weight matrices as float32 instead of keeping them in half precision (docs/memory.md). */
  float32Weights?: boolean;
  adapter: Omit<AdapterConfigInput, "seed">;
  train: Partial<TrainConfig>;
  /** A checkpoint folder to continue from. */
  resume?: string | null;
  /** A held-out test file (reported by compare and demo). */
  testFile?: string | null;
  /** Fields that override the model's config.json (e.g. a causal LM loaded as a classifier). */
  modelConfig?: Record<string, unknown>;
}

/** A config's id2label as a list in label order, or null. */
function configLabels(json: Record<string, unknown>): string[] | null {
  const id2label = json.id2label as Record<string, string> | undefined;
  if (!id2label || typeof id2label !== "object") return null;
  return Object.keys(id2label)
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => id2label[k]);
}

/**
 * Loads the model for the task. Classification on a causal LM (or a bare encoder) loads its
 * sequence-classification variant with a fresh head for the labels, as transformers'
 * AutoModelForSequenceClassification does, and says so; the head then trains and is saved as
 * modules_to_save (see assembleJob).
 */
export function loadTaskModel(
  opts: Pick<JobOptions, "model" | "modelConfig" | "task" | "labels" | "float32Weights">,
  warn: (message: string) => void = console.warn,
  onProgress?: (done: number, total: number) => void,
): PretrainedModel {
  const file = joinPath(opts.model, "config.json");
  const json = { ...(readJsonFile(file) as Record<string, unknown>), ...opts.modelConfig };
  const labels = opts.labels ?? configLabels(json);
  const fields =
    opts.task === "classification" && labels?.length ? sequenceClassifierFields(json, labels, file) : null;
  if (fields && labels) {
    const [from, to] = [(json.architectures as string[])[0], (fields.architectures as string[])[0]];
    warn(
      `morelora: ${opts.model} holds a ${from}; loaded as ${to} with a fresh head for the labels ${labels.join(", ")} (trained and saved with the adapter)`,
    );
  }
  return loadModel(opts.model, {
    config: { ...opts.modelConfig, ...fields },
    warn: () => {},
    onProgress,
    halfWeights: !opts.float32Weights,
  });
}

function taskData(opts: JobOptions, model: PretrainedModel): TaskData {
  if (opts.task === "causal-lm") {
    return {
      kind: "causal-lm",
      textField: opts.textField,
      promptField: opts.promptField ?? undefined,
      completionField: opts.completionField ?? undefined,
      maxLength: opts.maxLength,
      pack: opts.pack,
      maskPrompt: opts.maskPrompt ?? true,
    };
  }
  const labels = opts.labels ?? configLabels(model.hfConfig);
  if (!labels?.length)
    throw new Error("classification needs --labels (or id2label in the model's config.json)");
  return {
    kind: "classification",
    textField: opts.textField,
    labelField: opts.labelField,
    labels,
    maxLength: opts.maxLength,
  };
}

export interface JobData {
  train: Example[];
  validation: Example[];
  test: Example[];
  /** Classes of a classification task; 0 for language modelling. */
  numClasses: number;
}

export interface PreparedJob extends JobData {
  model: PretrainedModel;
  peft: PeftModel | null;
  tokenizer: HFTokenizer;
  target: TrainTarget;
}

/** A loaded model and its tokenized data, wrapped for training: an adapter, or every parameter (full). */
export function assembleJob(
  model: PretrainedModel,
  tokenizer: HFTokenizer,
  data: JobData,
  opts: { full?: boolean; adapter: Omit<AdapterConfigInput, "seed">; seed: number },
): PreparedJob {
  if (opts.full) return { model, peft: null, tokenizer, target: fullModelTarget(model), ...data };
  // As PEFT for SEQ_CLS: the classification head trains in full and is saved with the adapter.
  const modulesToSave = opts.adapter.modulesToSave ?? [];
  const heads = data.numClasses > 0 ? SEQ_CLS_HEAD_NAMES.filter((n) => !modulesToSave.includes(n)) : [];
  const peft = getPeftModel(model, {
    ...opts.adapter,
    modulesToSave: [...modulesToSave, ...heads],
    seed: opts.seed,
  });
  peft.taskType = model.peftTaskType;
  return { model, peft, tokenizer, target: adapterTarget(peft), ...data };
}

/** What a job tells as it goes: the trainer's hooks, and the loading of the model. */
export interface JobHooks extends TrainerHooks {
  /** After each tensor read from the model's files. */
  onLoadTensor?(done: number, total: number): void;
}

/** The job options that have a default in the option table (docs/options.md). */
type DefaultedJobOption = "valRatio" | "task" | "textField" | "labelField" | "maxLength" | "pack" | "full";

/** JobOptions as the library takes them: the option table's defaults may be left out. */
export type JobInput = Omit<JobOptions, DefaultedJobOption> & Partial<Pick<JobOptions, DefaultedJobOption>>;

/** The job options with the option table's defaults filled in where a field is absent. */
function withJobDefaults<O extends JobInput>(opts: O): O & JobOptions {
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return { ...optionDefaults("job"), ...given } as unknown as O & JobOptions;
}

/** Loads the model, tokenizer and data files, and wraps the model for training. */
export async function prepareJob(
  input: JobInput,
  cache?: Map<string, Example[]>,
  hooks: JobHooks = {},
): Promise<PreparedJob> {
  const opts = withJobDefaults(input);
  const model = loadTaskModel(opts, console.warn, hooks.onLoadTensor);
  model.gradientCheckpointing(opts.gradCheckpoint ?? false);
  const tokenizer = HFTokenizer.load(opts.model);
  const data = taskData(opts, model);
  // Runs that share files and task settings (compare) tokenize them once.
  const load = async (file: string): Promise<Example[]> => {
    const key = JSON.stringify([file, data]);
    const hit = cache?.get(key);
    if (hit) return hit;
    const examples = await loadExamples(file, tokenizer, data);
    cache?.set(key, examples);
    return examples;
  };
  const all = await load(opts.data);
  const split = opts.validation
    ? { train: all, validation: await load(opts.validation) }
    : opts.valRatio > 0
      ? splitExamples(all, opts.valRatio, opts.splitSeed ?? opts.train.seed ?? 0)
      : { train: all, validation: [] };
  const test = opts.testFile ? await load(opts.testFile) : [];
  const numClasses = data.kind === "classification" ? data.labels.length : 0;
  const job = assembleJob(
    model,
    tokenizer,
    { ...split, test, numClasses },
    { full: opts.full, adapter: opts.adapter, seed: opts.train.seed ?? 0 },
  );
  // Recorded in the adapter's config as PEFT does (the name as given); `morelora export --adapter` reads it.
  if (job.peft) job.peft.baseModelNameOrPath = opts.model;
  return job;
}

/** The trainer of a prepared job; the target brings its adapter's step hooks. */
export function jobTrainer(
  job: PreparedJob,
  config: Partial<TrainConfig>,
  hooks: TrainerHooks = {},
): Trainer {
  return new Trainer({
    target: job.target,
    train: job.train,
    validation: job.validation,
    config,
    padId: job.tokenizer.padId,
    hooks,
    numClasses: job.numClasses,
  });
}

export interface JobResult {
  stopped: "done" | "early-stop" | "interrupted";
  trainer: Trainer;
  before: EvalResult | null;
  after: EvalResult | null;
  /** Where the final weights are (adapter/ or model/ under the out folder), if there is one. */
  saved: string | null;
}

/** Trains as told, evaluating before and after; writes out/adapter (or out/model) at the end. */
export async function trainJob(input: JobInput, hooks: JobHooks = {}): Promise<JobResult> {
  const opts = withJobDefaults(input);
  const job = await prepareJob(opts, undefined, hooks);
  const trainer = jobTrainer(job, opts.train, hooks);
  if (opts.resume) trainer.resume(opts.resume);
  const before = job.validation.length && !opts.resume ? trainer.evaluate(job.validation) : null;
  const stopped = await trainer.run();
  // Interrupted: the checkpoint holds the work; the final evaluation and result wait for --resume.
  if (stopped === "interrupted") return { stopped, trainer, before, after: null, saved: null };
  const after = job.validation.length ? trainer.evaluate(job.validation) : null;
  const out = opts.train.outDir;
  const saved = out ? join(out, job.target.weightsName) : null;
  if (saved) writeDirAtomic(saved, (d) => job.target.save(d));
  return { stopped, trainer, before, after, saved };
}

/** Evaluates a model (with an adapter folder, if given) on a data file. */
export async function evalJob(
  input: JobInput & { adapterDir?: string | null },
  hooks: JobHooks = {},
): Promise<EvalResult & { labels?: string[] }> {
  const opts = withJobDefaults(input);
  const model = loadTaskModel(opts, console.warn, hooks.onLoadTensor);
  const tokenizer = HFTokenizer.load(opts.model);
  const data = taskData(opts, model);
  const examples = await loadExamples(opts.data, tokenizer, data);
  const peft = opts.adapterDir ? PeftModel.load(model, opts.adapterDir) : null;
  const target = peft ? adapterTarget(peft) : fullModelTarget(model);
  const trainer = new Trainer({
    target,
    train: examples,
    config: { batchSize: opts.train.batchSize ?? 8 },
    padId: tokenizer.padId,
    hooks,
    numClasses: data.kind === "classification" ? data.labels.length : 0,
  });
  const result = trainer.evaluate(examples);
  return data.kind === "classification" ? { ...result, labels: data.labels } : result;
}
