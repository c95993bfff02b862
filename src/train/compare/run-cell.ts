import type { Generative } from "../../models/index.js";
import { init } from "../../nn/index.js";
import { Generator, noGrad } from "../../tensor/index.js";
import { type JobOptions, jobTrainer, prepareJob } from "../job.js";
import type { Example } from "../tasks.js";
import { headOnlyTarget } from "../targets.js";
import type { NamedParameter } from "../optimizer.js";
import { type Trainer, TrainingError } from "../trainer.js";
import type { Cell, CellKey, CurvePoint } from "./cells.js";
import { generationScores, type PromptCompletion } from "./generation-score.js";
import { splitPairs } from "./split-pairs.js";
import { type CompareTask, isGenerative } from "./task.js";
import { parseVariant } from "./variants.js";

/** Data shared by every cell of a comparison: tokenized examples and prompt/completion pairs, by file. */
export interface CellCache {
  examples: Map<string, Example[]>;
  pairs: Map<string, PromptCompletion[]>;
}

export const newCellCache = (): CellCache => ({ examples: new Map(), pairs: new Map() });

/** Validation points per training curve. */
const CURVE_POINTS = 10;

/**
 * The curve is evaluated on every third validation example: its points show the shape of training
 * at a third of the cost (ten full passes cost a third of a 400-step run); the scores that choose
 * and report use the whole split.
 */
const CURVE_STRIDE = 3;

/** The task's config.json overrides (a built-in task's classifier fields) with the user's on top; none when neither has any. */
export function withModelConfig(base: JobOptions, task: CompareTask): Pick<JobOptions, "modelConfig"> {
  if (!base.modelConfig) return task.job.modelConfig ? { modelConfig: task.job.modelConfig } : {};
  return { modelConfig: { ...task.job.modelConfig, ...base.modelConfig } };
}

/**
 * A task's job options, with the task's own step count and adapted modules; a --val-ratio split is
 * the same for every seed, so per-seed scores pair up (docs/results.md).
 */
export const taskJob = (base: JobOptions, task: CompareTask): JobOptions =>
  ({
    ...base,
    splitSeed: 0,
    ...task.job,
    ...withModelConfig(base, task),
    train: task.maxSteps === undefined ? base.train : { ...base.train, maxSteps: task.maxSteps },
    adapter:
      task.targetModules === undefined
        ? base.adapter
        : { ...base.adapter, targetModules: task.targetModules },
  }) as JobOptions;

/** The job of a cell: the shared settings, the task's data, the variant's adapter, the cell's lr and seed. */
export function cellJob(base: JobOptions, task: CompareTask, key: CellKey): JobOptions {
  const variant = parseVariant(key.variant);
  const j = taskJob(base, task);
  const steps = key.steps ?? j.train.maxSteps;
  return {
    ...j,
    full: variant.kind !== "adapter",
    adapter: { ...j.adapter, modulesToSave: task.head, ...variant.adapter },
    train: {
      ...j.train,
      lr: key.lr,
      seed: key.seed,
      maxSteps: steps,
      outDir: null,
      checkpointEvery: null,
      earlyStopPatience: null,
      evalEvery: steps ? Math.max(1, Math.round(steps / CURVE_POINTS)) : (j.train.evalEvery ?? null),
    },
  };
}

/** Trains one cell and scores it on validation and test; a non-finite loss gives a cell with null scores. */
export async function runCell(
  base: JobOptions,
  task: CompareTask,
  key: CellKey,
  settings: Record<string, unknown>,
  cache: CellCache,
  dyloraRanks: readonly number[],
): Promise<Cell> {
  const started = performance.now();
  const opts = cellJob(base, task, key);
  const prepared = await prepareJob(opts, cache.examples);
  // Validation chooses the rate: scored on no examples it gives NaN (or a loss of 0) for every cell.
  if (!prepared.validation.length)
    throw new Error(
      `${opts.data}: --val-ratio ${opts.valRatio} holds out none of its ${prepared.train.length} examples for validation; give --validation FILE or a larger --val-ratio`,
    );
  const head = parseVariant(key.variant).kind === "head";
  const job = head ? { ...prepared, target: headOnlyTarget(prepared.model, task.head) } : prepared;
  const target = job.target;
  if (task.freshHead) reseedHead(target.parameters(), task.head, key.seed);
  const curveSet = job.validation.filter((_, i) => i % CURVE_STRIDE === 0);
  const trainer = jobTrainer({ ...job, validation: curveSet }, opts.train);
  const parameters = target.parameters().reduce((n, [, t]) => n + t.size, 0);
  const cell: Cell = {
    ...key,
    settings,
    parameters,
    validation: null,
    test: null,
    ranks: {},
    curve: [],
    seconds: 0,
    error: null,
  };
  let stopped: Awaited<ReturnType<Trainer["run"]>>;
  try {
    stopped = await trainer.run();
  } catch (e) {
    if (!(e instanceof TrainingError)) throw e;
    return {
      ...cell,
      error: e.message,
      curve: curve(trainer),
      seconds: (performance.now() - started) / 1000,
    };
  }
  // Ctrl-C or SIGTERM mid-cell: the cell is not finished, so it is not saved (--resume reruns it).
  if (stopped === "interrupted")
    throw new Error(
      `compare: interrupted during ${key.task} ${key.variant} lr ${key.lr} seed ${key.seed}; finished cells are saved, continue with --resume`,
    );
  target.train(false);
  const generative = isGenerative(task.metric);
  const { validation: validPairs, test: testPairs } = generative
    ? await splitPairs(opts, job, cache.pairs)
    : { validation: [], test: [] };
  const score = (examples: Example[], pairs: PromptCompletion[]): number => {
    if (generative) {
      const s = generationScores(job.model as unknown as Generative, job.tokenizer, pairs);
      return task.metric === "exact-match" ? s.exactMatch : s.editAccuracy;
    }
    const r = trainer.evaluate(examples);
    return task.metric === "accuracy" ? r.accuracy! : -r.loss;
  };
  const scores = (): { validation: number; test: number | null } => ({
    validation: score(job.validation, validPairs),
    test: job.test.length ? score(job.test, testPairs) : null,
  });
  const ranks: Cell["ranks"] = {};
  const peft = job.peft;
  if (peft?.rankVaries()) {
    for (const k of dyloraRanks.filter((k) => k < peft.config().r)) {
      peft.setRank(k);
      ranks[k] = scores();
    }
    peft.setRank(peft.config().r);
  }
  return {
    ...cell,
    ...scores(),
    ranks,
    curve: curve(trainer),
    seconds: (performance.now() - started) / 1000,
  };
}

/** The validation points of a run's log, each with the mean training loss since the previous one. */
function curve(trainer: Trainer): CurvePoint[] {
  const out: CurvePoint[] = [];
  let losses: number[] = [];
  for (const e of trainer.history) {
    if (e.loss !== undefined) losses.push(e.loss);
    if (e.eval_loss === undefined) continue;
    out.push({
      step: e.step,
      trainLoss: losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length),
      validationLoss: e.eval_loss,
      ...(e.eval_accuracy !== undefined ? { validationAccuracy: e.eval_accuracy } : {}),
    });
    losses = [];
  }
  return out;
}

/** Whether a parameter or checkpoint tensor belongs to one of the head modules. */
export const isHeadTensor = (name: string, head: readonly string[]): boolean =>
  head.some((m) => name.startsWith(`${m}.`) || name.includes(`.${m}.`));

/**
 * Draws a fresh head anew for a seed, as torch.nn.Linear initialises one (kaiming-uniform weight,
 * bias uniform in ±1/√fan_in): the loader draws the same fresh head in every run, so without this
 * the seeds would not vary the head's start.
 */
export function reseedHead(parameters: NamedParameter[], head: readonly string[], seed: number): void {
  const rng = new Generator(seed * 104729 + 17);
  const fanIn = new Map<string, number>();
  noGrad(() => {
    for (const [name, t] of parameters) {
      if (!isHeadTensor(name, head)) continue;
      const module = name.slice(0, name.lastIndexOf("."));
      if (name.endsWith(".weight")) {
        init.kaimingUniform_(t, rng);
        fanIn.set(module, t.shape[1] ?? 1);
      } else if (name.endsWith(".bias")) {
        const bound = 1 / Math.sqrt(fanIn.get(module) ?? t.size);
        init.uniform_(t, rng, -bound, bound);
      }
    }
  });
}
