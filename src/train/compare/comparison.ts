import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type JobOptions, prepareJob } from "../job.js";
import { type BaselineScore, classificationBaselines } from "./baselines.js";
import { type Cell, CellStore } from "./cells.js";
import { type Finding, findingsOf } from "./findings.js";
import { generationBaselines } from "./generation-baselines.js";
import { type ProtocolOptions, runProtocol, type VariantRuns } from "./protocol.js";
import { newCellCache, runCell, taskJob, withModelConfig } from "./run-cell.js";
import { type TaskReport, taskReport, type Unfinished } from "./summary.js";
import { type CompareTask, isGenerative } from "./task.js";
import { splitPairs } from "./split-pairs.js";
import { parseVariant } from "./variants.js";

export interface ComparisonOptions extends ProtocolOptions {
  /** Where the cells go (outDir/cells/...), one JSON file each as it finishes. */
  outDir: string;
  /** Reuse finished cells in outDir instead of refusing to overwrite them. */
  resume: boolean;
  /** Lower ranks DyLoRA is read at after training. */
  dyloraRanks: number[];
  /** Train nothing: report the variants whose cells are all in outDir, and name the others. */
  reportOnly?: boolean;
  /** Run the cells and stop there: no baselines, reports or findings (a worker of `compare --jobs`). */
  cellsOnly?: boolean;
  onCell?(cell: Cell, reused: boolean): void;
}

export interface Comparison {
  reports: TaskReport[];
  runs: VariantRuns[];
  /** Every claim's verdict per row and task; `line` is its line of the report. */
  findings: Finding[];
}

/** A file's (or a folder's files') content hash, so a resumed run may live at another path but not use other data. */
function contentHash(path: string): string {
  const h = createHash("sha256");
  if (statSync(path).isDirectory())
    for (const f of readdirSync(path).sort()) {
      if (statSync(join(path, f)).isFile()) h.update(f).update(contentHash(join(path, f)));
    }
  else h.update(readFileSync(path));
  return h.digest("hex").slice(0, 16);
}

/** Everything a cell's numbers depend on besides its key (`steps`: a cell's own step count); a resumed run must match it. */
function settingsOf(
  base: JobOptions,
  task: CompareTask,
  dyloraRanks: number[],
  steps?: number,
): Record<string, unknown> {
  const { train: own, adapter } = taskJob(base, task);
  const { lr: _lr, seed: _seed, outDir: _out, ...train } = own;
  void [_lr, _seed, _out];
  if (steps !== undefined) train.maxSteps = steps;
  const job: Record<string, unknown> = { ...task.job, ...withModelConfig(base, task) };
  for (const k of ["model", "data", "validation", "testFile"] as const)
    if (typeof job[k] === "string") job[k] = contentHash(job[k] as string);
  return {
    job,
    metric: task.metric,
    head: task.head,
    freshHead: task.freshHead ?? false,
    adapter,
    train,
    dyloraRanks,
  };
}

/**
 * The baselines of a task on the cells' splits: majority class and bag-of-tokens for a
 * classification, the most frequent completion and the nearest training prompt for a generation.
 */
async function baselines(
  base: JobOptions,
  task: CompareTask,
  cache: ReturnType<typeof newCellCache>,
): Promise<BaselineScore[]> {
  if (task.job.task !== "classification" && !isGenerative(task.metric)) return [];
  const opts = taskJob(base, task);
  const job = await prepareJob({ ...opts, full: true }, cache.examples);
  if (isGenerative(task.metric))
    return generationBaselines(await splitPairs(opts, job, cache.pairs), task.metric);
  return classificationBaselines(job.train, job.validation, job.test, job.numClasses);
}

/**
 * A method comparison by the protocol of docs/results.md: per task and variant a learning-rate
 * sweep chosen on validation, then seeds at the chosen rate, scored on test; baselines on the same
 * splits; tables, paired differences to LoRA and the papers' claims as findings.
 */
export async function runComparison(
  base: JobOptions,
  tasks: readonly CompareTask[],
  options: ComparisonOptions,
): Promise<Comparison> {
  for (const v of options.variants) parseVariant(v);
  const store = new CellStore(join(options.outDir, "cells"), options.resume);
  const cache = newCellCache();
  const known = new Map<string, Record<string, unknown>>();
  const settings = (task: CompareTask, steps?: number): Record<string, unknown> => {
    const at = `${task.name} ${steps}`;
    if (!known.has(at)) known.set(at, settingsOf(base, task, options.dyloraRanks, steps));
    return known.get(at)!;
  };
  const unfinished: Unfinished[] = [];
  const runs = await runProtocol(
    tasks,
    store,
    settings,
    (task, key) => runCell(base, task, key, settings(task, key.steps), cache, options.dyloraRanks),
    {
      ...options,
      steps: (task) => taskJob(base, task).train.maxSteps ?? null,
      ...(options.reportOnly
        ? {
            unfinished: (task, variant, found) => {
              // Seed 0 of the chosen rate is a sweep cell; LoRA runs once more at twice the steps.
              const planned = new Set(options.lrs).size + options.seeds - 1 + (variant === "lora" ? 1 : 0);
              unfinished.push({ task, variant, found, left: Math.max(1, planned - found) });
            },
          }
        : {}),
    },
    options.onCell,
  );
  if (options.cellsOnly) return { reports: [], runs, findings: [] };
  const reports: TaskReport[] = [];
  for (const task of tasks)
    reports.push(
      taskReport(
        task.name,
        task.metric,
        runs,
        await baselines(base, task, cache),
        unfinished.filter((u) => u.task === task.name),
      ),
    );
  return { reports, runs, findings: findingsOf(reports) };
}
