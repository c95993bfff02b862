import type { Cell, CellKey, CellStore } from "./cells.js";
import type { CompareTask } from "./task.js";

export interface ProtocolOptions {
  variants: string[];
  /** Seeds at the chosen learning rate (the sweep runs seed 0). */
  seeds: number;
  /** The learning-rate sweep, log-spaced. */
  lrs: number[];
  /** How many times the sweep may grow by one step at each edge when the best rate sits there. */
  extend: number;
  /**
   * A task's training steps, where known: LoRA then trains once more at twice the steps (seed 0,
   * its chosen rate), and the report compares the two to say whether its score had plateaued.
   */
  steps?: (task: CompareTask) => number | null;
  /**
   * When given, nothing trains: a variant with a cell missing from the store is left out of the
   * result and passed here, with how many of its cells were found (a report of a run in progress).
   */
  unfinished?: (task: string, variant: string, found: number) => void;
}

/** A cell a report-only pass needed and the store does not hold. */
class MissingCell extends Error {}

/** A variant's runs on a task: the sweep that chose its learning rate, then the seeds at that rate. */
export interface VariantRuns {
  task: string;
  variant: string;
  /** Seed-0 cells in ascending learning rate. */
  sweep: Cell[];
  /** The rate with the best validation score; null when every rate diverged. */
  chosenLr: number | null;
  /** The best rate is still at an edge of the sweep after extending it. */
  atEdge: boolean;
  /** Cells at the chosen rate, seeds 0..n−1. */
  seeds: Cell[];
  /** LoRA only: seed 0 at the chosen rate trained for twice the steps (the plateau check). */
  doubled: Cell | null;
}

/** Runs (or, from the store, reuses) a cell. */
export type CellRunner = (task: CompareTask, key: CellKey) => Promise<Cell>;

/** Variants that make no sense for a task: head-only training needs a separate task head. */
export const appliesTo = (variant: string, task: CompareTask): boolean =>
  variant !== "head" || task.head.length > 0;

/**
 * The protocol of docs/results.md: per task and variant, a learning-rate sweep on seed 0 chosen
 * on validation (extended by one step past an edge that wins, up to `extend` times a side), then
 * `seeds` seeds at the chosen rate; for LoRA, one run at twice the steps. Finished cells come from
 * the store, new ones go to it as they finish. `settingsOf` gives what a task's cells must share,
 * for a cell trained `steps` long where it is not the task's own count.
 */
export async function runProtocol(
  tasks: readonly CompareTask[],
  store: CellStore,
  settingsOf: (task: CompareTask, steps?: number) => Record<string, unknown>,
  run: CellRunner,
  options: ProtocolOptions,
  onCell?: (cell: Cell, reused: boolean) => void,
): Promise<VariantRuns[]> {
  const out: VariantRuns[] = [];
  for (const task of tasks) {
    const found = new Set<string>();
    const cell = async (key: CellKey): Promise<Cell> => {
      const done = store.get(key, settingsOf(task, key.steps));
      if (done) {
        found.add(store.path(key));
        onCell?.(done, true);
        return done;
      }
      if (options.unfinished) throw new MissingCell();
      const fresh = await run(task, key);
      store.put(fresh);
      onCell?.(fresh, false);
      return fresh;
    };
    for (const variant of options.variants.filter((v) => appliesTo(v, task))) {
      found.clear();
      try {
        out.push(await variantRuns(task, variant, cell, options));
      } catch (e) {
        if (!(e instanceof MissingCell)) throw e;
        options.unfinished!(task.name, variant, found.size);
      }
    }
  }
  return out;
}

/** The sweep, the seeds at the chosen rate and (for LoRA) the doubled run of one variant on a task. */
async function variantRuns(
  task: CompareTask,
  variant: string,
  cell: (key: CellKey) => Promise<Cell>,
  options: ProtocolOptions,
): Promise<VariantRuns> {
  const lrs = [...new Set(options.lrs)].sort((a, b) => a - b);
  const ratio = lrs.length > 1 ? lrs[1] / lrs[0] : Math.sqrt(10);
  const sweep: Cell[] = [];
  for (const lr of lrs) sweep.push(await cell({ task: task.name, variant, lr, seed: 0 }));
  const valid = (c: Cell): number => c.validation ?? -Infinity;
  // An edge that ties the best score is a winning edge too: the best rate may lie beyond it.
  const wins = (c: Cell): boolean => c.validation !== null && valid(c) === Math.max(...sweep.map(valid));
  let [low, high] = [0, 0];
  for (;;) {
    const next = (lr: number): number => Number(lr.toPrecision(3));
    if (wins(sweep[0]) && low < options.extend) {
      low++;
      sweep.unshift(await cell({ task: task.name, variant, lr: next(sweep[0].lr / ratio), seed: 0 }));
    } else if (wins(sweep[sweep.length - 1]) && high < options.extend) {
      high++;
      sweep.push(
        await cell({ task: task.name, variant, lr: next(sweep[sweep.length - 1].lr * ratio), seed: 0 }),
      );
    } else break;
  }
  const best = sweep.reduce((a, b) => (valid(b) > valid(a) ? b : a));
  const chosenLr = best.validation === null ? null : best.lr;
  const seeds: Cell[] = [];
  if (chosenLr !== null)
    for (let seed = 0; seed < options.seeds; seed++)
      seeds.push(await cell({ task: task.name, variant, lr: chosenLr, seed }));
  const atEdge = chosenLr !== null && sweep.length > 1 && (wins(sweep[0]) || wins(sweep[sweep.length - 1]));
  const steps = options.steps?.(task) ?? null;
  // A report of a run in progress reports LoRA without its plateau check when that is still missing.
  const doubled =
    variant === "lora" && chosenLr !== null && steps !== null
      ? await cell({ task: task.name, variant, lr: chosenLr, seed: 0, steps: 2 * steps }).catch((e) => {
          if (e instanceof MissingCell) return null;
          throw e;
        })
      : null;
  return { task: task.name, variant, sweep, chosenLr, atEdge, seeds, doubled };
}
