import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { crashPoint, writeDirAtomic, writeError } from "../io/index.js";
import * as T from "../tensor/index.js";
import { Generator, type GeneratorState, noGrad, type Tensor } from "../tensor/index.js";
import { readCheckpoint, type TrainerState, writeCheckpoint } from "./training-checkpoint.js";
import { classificationMetrics } from "./metrics.js";
import { AdamW, defaultParamGroups, type NamedParameter, type Optimizer, SGD } from "./optimizer.js";
import { checkOption, JOB_OPTIONS, optionDefaults } from "./options.js";
import { lrFactor, type ScheduleName } from "./schedule.js";
import { type Batch, collate, type Example, shuffled, taskLoss } from "./tasks.js";

export interface TrainConfig {
  batchSize: number;
  gradAccum: number;
  /** Training length: maxSteps optimizer steps, or else epochs over the data. */
  epochs: number;
  maxSteps: number | null;
  lr: number;
  weightDecay: number;
  optimizer: "adamw" | "sgd";
  momentum: number;
  schedule: ScheduleName;
  warmupSteps: number;
  /** Clip the global gradient norm to this; null for no clipping. */
  clipNorm: number | null;
  /** Evaluate on the validation set every N steps (and at the end); null for only at the end. */
  evalEvery: number | null;
  /** Validation batches per evaluation during training (the first ones); null for all. */
  valBatches: number | null;
  /** Stop after this many evaluations without improvement; null never stops early. */
  earlyStopPatience: number | null;
  seed: number;
  /** Folder for checkpoints (checkpoint/, best/, metrics.jsonl); null keeps nothing on disk. */
  outDir: string | null;
  checkpointEvery: number | null;
}

/** The library's defaults: those of the option table (src/train/options.ts, docs/options.md). */
export const DEFAULT_TRAIN_CONFIG = optionDefaults("train") as unknown as TrainConfig;

/** A config with the defaults filled in, each value checked against the option table. */
function resolveTrainConfig(config: Partial<TrainConfig>): TrainConfig {
  const given = Object.entries(config).filter(([, v]) => v !== undefined);
  for (const [key, value] of given) {
    const spec = JOB_OPTIONS.find((o) => o.scope === "train" && o.key === key);
    if (!spec) throw new Error(`train config: unknown field "${key}"`);
    try {
      checkOption(spec, value);
    } catch (e) {
      throw new Error(`train config "${key}": ${(e as Error).message}`);
    }
  }
  return { ...DEFAULT_TRAIN_CONFIG, ...Object.fromEntries(given) };
}

/** What the trainer trains: logits for a batch, the trainable parameters, and how to save/restore them. */
export interface TrainTarget {
  forward(batch: Batch): Tensor;
  /** A causal LM's next-token loss without full logits (lm-loss.ts); else forward + taskLoss. */
  causalLoss?(batch: Batch): Tensor;
  parameters(): NamedParameter[];
  /** The folder name of its weights in a run and a checkpoint: "adapter", or "model" for full fine-tuning. */
  readonly weightsName: "adapter" | "model";
  /** Writes the trained weights (an adapter in PEFT format, or a full model) to a folder. */
  save(dir: string): void;
  /** Restores weights written by save (resuming). */
  load(dir: string): void;
  /** Sets train or eval mode (dropout). */
  train(mode: boolean): void;
  /** Before each optimizer step: the adapter's own training hook (DyLoRA draws its rank here). */
  beginStep?(step: number, rng: Generator): void;
  /** When the training loop ends (DyLoRA goes back to the rank it saves and evaluates). */
  endTraining?(): void;
  /** Parameters that take no weight decay besides biases and norms (DoRA's magnitudes). */
  noWeightDecay?(name: string): boolean;
  /** Seeds the model's own dropout (the training seed fixes its masks too). */
  seedDropout?(seed: number): void;
  /** The states of the generators the forward draws from in training (dropout), by name. */
  randomState?(): Record<string, GeneratorState>;
  setRandomState?(states: Record<string, GeneratorState>): void;
}

export interface LogEntry {
  step: number;
  lr?: number;
  loss?: number;
  grad_norm?: number;
  elapsed_s: number;
  [metric: `eval_${string}`]: number;
}

export interface TrainerHooks {
  /** Before each optimizer step (after the target's own beginStep). */
  onStepBegin?(step: number, rng: Generator): void;
  onLog?(entry: LogEntry): void;
  /** After each optimizer step. */
  onStep?(step: number, total: number, loss: number): void;
  /** After each batch of an evaluation. */
  onEvalBatch?(done: number, total: number): void;
}

export class TrainingError extends Error {}

/** What a Trainer is built from. */
export interface TrainerOptions {
  target: TrainTarget;
  train: Example[];
  /** Evaluated every evalEvery steps and at the end (none when empty). */
  validation?: Example[] | null;
  config?: Partial<TrainConfig>;
  /** The token id batches are padded with. */
  padId: number;
  hooks?: TrainerHooks;
  /** Classes of a classification task (for F1); 0 for language modelling. */
  numClasses?: number;
}

export interface EvalResult {
  loss: number;
  perplexity?: number;
  accuracy?: number;
  f1?: number;
  /** Classification: confusion[true class][predicted class] counts. */
  confusion?: number[][];
}

/**
 * The training loop: seeded shuffling per epoch, gradient accumulation, global-norm clipping,
 * warm-up schedules, evaluation with early stopping and a best checkpoint, atomic checkpoints
 * (every N steps, on SIGINT/SIGTERM and at the end) that resume bit for bit, dropout included,
 * and a stop with a clear message on a non-finite loss or gradient. A kill at any moment loses at
 * most the steps since the last checkpoint: see docs/training.md.
 */
export class Trainer {
  readonly config: TrainConfig;
  readonly optimizer: Optimizer;
  private state: TrainerState;
  private readonly rng: Generator;
  private readonly started = performance.now();
  private stopRequested = false;
  private lastCheckpoint: number | null = null;
  readonly history: LogEntry[] = [];
  private readonly target: TrainTarget;
  private readonly trainSet: Example[];
  private readonly validation: Example[] | null;
  private readonly padId: number;
  private readonly hooks: TrainerHooks;
  private readonly numClasses: number;

  constructor(options: TrainerOptions) {
    const { target, train } = options;
    this.target = target;
    this.trainSet = train;
    this.validation = options.validation ?? null;
    this.padId = options.padId;
    this.hooks = options.hooks ?? {};
    this.numClasses = options.numClasses ?? 0;
    this.config = resolveTrainConfig(options.config ?? {});
    if (train.length === 0) throw new Error("training set is empty");
    const groups = defaultParamGroups(target.parameters(), target.noWeightDecay);
    const c = this.config;
    this.optimizer =
      c.optimizer === "sgd"
        ? new SGD(groups, { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay })
        : new AdamW(groups, { lr: c.lr, weightDecay: c.weightDecay });
    this.rng = new Generator(c.seed);
    target.seedDropout?.(c.seed);
    this.state = {
      step: 0,
      bestMetric: null,
      bestStep: null,
      rng: this.rng.getState(),
      dropout: {},
      patienceUsed: 0,
      metricsBytes: 0,
      finished: null,
    };
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.trainSet.length / this.config.batchSize);
  }

  get totalSteps(): number {
    return (
      this.config.maxSteps ?? Math.ceil((this.config.epochs * this.batchesPerEpoch) / this.config.gradAccum)
    );
  }

  get step(): number {
    return this.state.step;
  }

  /** The micro-batch with a global index: epoch e uses a permutation drawn from seed and e. */
  private microBatch(index: number): Batch {
    const epoch = Math.floor(index / this.batchesPerEpoch);
    const within = index % this.batchesPerEpoch;
    const order = shuffled(this.trainSet.length, new Generator(this.config.seed * 7919 + epoch + 1));
    const picked = order.slice(within * this.config.batchSize, (within + 1) * this.config.batchSize);
    return collate(
      picked.map((i) => this.trainSet[i]),
      this.padId,
    );
  }

  private get metricsFile(): string | null {
    return this.config.outDir ? join(this.config.outDir, "metrics.jsonl") : null;
  }

  /**
   * Continues from a checkpoint folder written by this trainer; metrics.jsonl is cut back to the
   * checkpoint's step (dropping anything a crash left after it) and read into the history.
   */
  resume(dir: string): void {
    const { state, optimizer, weightsDir } = readCheckpoint(dir, this.target.weightsName);
    this.target.load(weightsDir);
    this.optimizer.loadStateDict(optimizer);
    this.state = state;
    this.rng.setState(state.rng);
    this.target.setRandomState?.(state.dropout);
    this.lastCheckpoint = state.step;
    const file = this.metricsFile;
    if (file && existsSync(file)) {
      const kept = readFileSync(file).subarray(0, state.metricsBytes).toString("utf8");
      this.history.length = 0;
      for (const line of kept.split("\n")) if (line) this.history.push(JSON.parse(line) as LogEntry);
    }
  }

  /** Asks the loop to checkpoint and stop after the current step (SIGINT / SIGTERM do this). */
  requestStop(): void {
    this.stopRequested = true;
  }

  private clip(params: NamedParameter[]): number {
    let sq = 0;
    for (const [, p] of params) if (p.grad) for (const g of p.grad.data) sq += g * g;
    const norm = Math.sqrt(sq);
    const max = this.config.clipNorm;
    if (max !== null && Number.isFinite(norm) && norm > max) {
      const s = max / (norm + 1e-6);
      for (const [, p] of params) if (p.grad) for (let i = 0; i < p.grad.size; i++) p.grad.data[i] *= s;
    }
    return norm;
  }

  private log(entry: LogEntry): void {
    this.history.push(entry);
    this.hooks.onLog?.(entry);
    const file = this.metricsFile;
    if (!file) return;
    const line = `${JSON.stringify(entry)}\n`;
    try {
      appendFileSync(file, line);
    } catch (e) {
      throw writeError(file, e);
    }
    this.state.metricsBytes += Buffer.byteLength(line);
  }

  /** What the stop messages say about the checkpoint a run can resume from. */
  private kept(): string {
    if (!this.config.outDir) return "nothing is saved without an output folder";
    const dir = join(this.config.outDir, "checkpoint");
    return this.lastCheckpoint === null
      ? "no checkpoint was written yet"
      : `the checkpoint of step ${this.lastCheckpoint} in ${dir} is kept`;
  }

  /** Writes checkpoint/, unless a parameter or optimizer state holds NaN or Infinity. */
  private checkpoint(): void {
    if (!this.config.outDir) return;
    const optimizer = this.optimizer.stateDict();
    const tensors: [string, Tensor][] = [
      ...this.target.parameters(),
      ...[...optimizer.tensors].map(([k, t]): [string, Tensor] => [`optimizer state ${k}`, t]),
    ];
    const bad = tensors.find(([, t]) => !t.data.every(Number.isFinite));
    if (bad)
      throw new TrainingError(
        `step ${this.state.step}: ${bad[0]} holds non-finite values; stopped without checkpointing (${this.kept()})`,
      );
    this.state.rng = this.rng.getState();
    this.state.dropout = this.target.randomState?.() ?? {};
    writeCheckpoint(
      join(this.config.outDir, "checkpoint"),
      this.state,
      optimizer,
      this.target.weightsName,
      (d) => this.target.save(d),
    );
    this.lastCheckpoint = this.state.step;
  }

  /** The loss of a batch: a causal LM's from its hidden states when it can, else from its logits. */
  private loss(batch: Batch): Tensor {
    if (batch.targets.ndim === 2 && this.target.causalLoss) return this.target.causalLoss(batch);
    return taskLoss(this.target.forward(batch), batch);
  }

  /** One optimizer step over gradAccum micro-batches; returns the mean loss. */
  private trainStep(): { loss: number; gradNorm: number } {
    const c = this.config;
    const step = this.state.step + 1;
    this.target.beginStep?.(step, this.rng);
    this.hooks.onStepBegin?.(step, this.rng);
    this.optimizer.lr =
      c.lr *
      lrFactor(step, { schedule: c.schedule, warmupSteps: c.warmupSteps, totalSteps: this.totalSteps });
    this.optimizer.zeroGrad();
    this.target.train(true);
    let total = 0;
    for (let k = 0; k < c.gradAccum; k++) {
      const batch = this.microBatch((step - 1) * c.gradAccum + k);
      const loss = this.loss(batch);
      const value = loss.item();
      if (!Number.isFinite(value))
        throw new TrainingError(`step ${step}: the loss is ${value}; stopped (${this.kept()})`);
      T.mulScalar(loss, 1 / c.gradAccum).backward();
      total += value;
    }
    const gradNorm = this.clip(this.target.parameters());
    if (!Number.isFinite(gradNorm))
      throw new TrainingError(`step ${step}: the gradient norm is ${gradNorm}; stopped (${this.kept()})`);
    this.optimizer.step();
    this.state.step = step;
    return { loss: total / c.gradAccum, gradNorm };
  }

  /** Loss (and perplexity, or accuracy and F1) over examples, in eval mode, without gradients. */
  evaluate(examples: readonly Example[]): EvalResult {
    this.target.train(false);
    let lossSum = 0;
    let count = 0;
    const predicted: number[] = [];
    const actual: number[] = [];
    noGrad(() => {
      const batches = Math.ceil(examples.length / this.config.batchSize);
      for (let i = 0; i < examples.length; i += this.config.batchSize) {
        const batch = collate(examples.slice(i, i + this.config.batchSize), this.padId);
        if (batch.targets.ndim === 1) {
          const logits = this.target.forward(batch);
          lossSum += taskLoss(logits, batch).item() * batch.count;
          predicted.push(...T.argmax(logits, -1).toArray());
          actual.push(...batch.targets.toArray());
        } else lossSum += this.loss(batch).item() * batch.count;
        count += batch.count;
        this.hooks.onEvalBatch?.(i / this.config.batchSize + 1, batches);
      }
    });
    const loss = lossSum / Math.max(1, count);
    if (predicted.length) return { loss, ...classificationMetrics(predicted, actual, this.numClasses) };
    return { loss, perplexity: Math.exp(loss) };
  }

  private evalAndTrack(): boolean {
    if (!this.validation?.length) return false;
    const { valBatches, batchSize } = this.config;
    const result = this.evaluate(
      valBatches ? this.validation.slice(0, valBatches * batchSize) : this.validation,
    );
    const entry: LogEntry = { step: this.state.step, elapsed_s: this.elapsed() };
    for (const [k, v] of Object.entries(result)) if (typeof v === "number") entry[`eval_${k}`] = v;
    this.log(entry);
    // Higher accuracy is better for classification; lower loss otherwise.
    const metric = result.accuracy ?? -result.loss;
    if (this.state.bestMetric === null || metric > this.state.bestMetric) {
      this.state.bestMetric = metric;
      this.state.bestStep = this.state.step;
      this.state.patienceUsed = 0;
      if (this.config.outDir) writeDirAtomic(join(this.config.outDir, "best"), (d) => this.target.save(d));
      return false;
    }
    this.state.patienceUsed++;
    return this.config.earlyStopPatience !== null && this.state.patienceUsed >= this.config.earlyStopPatience;
  }

  private elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** Checkpoints a run that has ended, so resuming it only saves its result. */
  private finish(how: "done" | "early-stop"): "done" | "early-stop" {
    this.state.finished = how;
    this.checkpoint();
    return how;
  }

  /** Trains to the configured length (or an early stop or a stop request); returns why it stopped. */
  async run(): Promise<"done" | "early-stop" | "interrupted"> {
    const c = this.config;
    if (this.state.finished) {
      this.target.endTraining?.();
      return this.state.finished;
    }
    const file = this.metricsFile;
    // A fresh run starts the log; a resumed one cuts off what came after its checkpoint.
    if (file) {
      try {
        mkdirSync(c.outDir!, { recursive: true });
        if (existsSync(file)) truncateSync(file, this.state.metricsBytes);
        else appendFileSync(file, "");
      } catch (e) {
        throw writeError(file, e);
      }
    }
    const onSignal = (): void => this.requestStop();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      while (this.state.step < this.totalSteps) {
        const { loss, gradNorm } = this.trainStep();
        const step = this.state.step;
        this.log({ step, lr: this.optimizer.lr, loss, grad_norm: gradNorm, elapsed_s: this.elapsed() });
        this.hooks.onStep?.(step, this.totalSteps, loss);
        crashPoint("step");
        // Let signal handlers and progress output run between steps.
        await new Promise((resolve) => setImmediate(resolve));
        const stopEarly =
          c.evalEvery !== null && step % c.evalEvery === 0 && step < this.totalSteps && this.evalAndTrack();
        if (stopEarly) return this.finish("early-stop");
        const due = c.checkpointEvery !== null && step % c.checkpointEvery === 0;
        if (due || this.stopRequested) this.checkpoint();
        if (this.stopRequested) return "interrupted";
      }
      this.evalAndTrack();
      return this.finish("done");
    } finally {
      this.target.endTraining?.();
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
  }
}
