import type { BaselineScore } from "./baselines.js";
import type { Cell, CurvePoint } from "./cells.js";
import type { VariantRuns } from "./protocol.js";
import { pairedDifference, type Summary, summarize } from "./stats.js";
import type { CompareMetric } from "./task.js";
import { dyloraRankRow, referenceVariant } from "./variants.js";

/** One row of a task's table: a variant (or DyLoRA at a lower rank) at its chosen learning rate. */
export interface Row {
  variant: string;
  parameters: number;
  lr: number | null;
  atEdge: boolean;
  sweep: { lr: number; validation: number | null }[];
  /** The validation score at the chosen rate, over seeds (what chose it). */
  validation: Summary;
  /** The reported score per seed: test, or validation when there is no test set. */
  perSeed: Record<number, number>;
  score: Summary;
  /** The paired per-seed difference to the reference row (LoRA at the same rank). */
  versus: { reference: string; difference: Summary } | null;
  secondsPerRun: number;
  /** The mean validation curve over the seeds at the chosen rate. */
  curve: CurvePoint[];
  failed: string | null;
}

/**
 * Whether LoRA had plateaued: its seed-0 run at the chosen rate against the same run trained twice
 * as long. With a decaying learning rate the last quarter of one curve still moves as the rate
 * settles, so the check is whether doubling the steps pays (docs/results.md).
 */
export interface Plateau {
  steps: number;
  /** The validation score (the task metric) after `steps` and after twice as many. */
  atSteps: number;
  atDoubled: number;
  gain: number;
  /** Doubling gained less than one point (for −loss: less than 2% of the loss). */
  plateaued: boolean;
}

/** A variant a report-only pass left out: how many of its cells were found, and how many at least are left. */
export interface Unfinished {
  task: string;
  variant: string;
  found: number;
  /** The sweep and the seeds (and LoRA's doubled run) not yet found; extending the sweep adds more. */
  left: number;
}

export interface TaskReport {
  task: string;
  metric: CompareMetric;
  /** Where the reported scores come from. */
  split: "test" | "validation";
  rows: Row[];
  baselines: BaselineScore[];
  plateau: Plateau | null;
  /** Variants left out because their runs are not all finished (a report of a run in progress). */
  unfinished: Unfinished[];
}

function meanCurve(cells: readonly Cell[]): CurvePoint[] {
  const n = Math.min(...cells.map((c) => c.curve.length));
  if (!Number.isFinite(n)) return [];
  return Array.from({ length: n }, (_, i) => {
    const at = cells.map((c) => c.curve[i]);
    const mean = (f: (p: CurvePoint) => number | undefined): number =>
      at.reduce((s, p) => s + (f(p) ?? NaN), 0) / at.length;
    const accuracy = mean((p) => p.validationAccuracy);
    return {
      step: at[0].step,
      trainLoss: mean((p) => p.trainLoss),
      validationLoss: mean((p) => p.validationLoss),
      ...(Number.isNaN(accuracy) ? {} : { validationAccuracy: accuracy }),
    };
  });
}

/** The plateau check of a task: LoRA's seed-0 score at its chosen rate against twice the steps. */
export function plateauOf(metric: CompareMetric, runs: VariantRuns | undefined): Plateau | null {
  const single = runs?.seeds.find((c) => c.seed === 0);
  const doubled = runs?.doubled;
  if (!single || !doubled?.steps || single.validation === null || doubled.validation === null) return null;
  const gain = doubled.validation - single.validation;
  const threshold = metric === "loss" ? 0.02 * Math.abs(single.validation) : 0.01;
  return {
    steps: doubled.steps / 2,
    atSteps: single.validation,
    atDoubled: doubled.validation,
    gain,
    plateaued: gain < threshold,
  };
}

/** The table of one task: a row per variant (and per DyLoRA rank) with its paired difference to LoRA. */
export function taskReport(
  task: string,
  metric: CompareMetric,
  runs: readonly VariantRuns[],
  baselines: BaselineScore[],
  unfinished: Unfinished[] = [],
): TaskReport {
  const mine = runs.filter((r) => r.task === task);
  const split = mine.some((r) => r.seeds.some((c) => c.test !== null)) ? "test" : "validation";
  const reported = (c: Cell): number | null => (split === "test" ? c.test : c.validation);
  const rows: Row[] = [];
  for (const r of mine) {
    const ok = r.seeds.filter((c) => reported(c) !== null);
    const base: Omit<Row, "variant" | "perSeed" | "score" | "validation" | "versus"> = {
      parameters: (r.seeds[0] ?? r.sweep[0]).parameters,
      lr: r.chosenLr,
      atEdge: r.atEdge,
      sweep: r.sweep.map((c) => ({ lr: c.lr, validation: c.validation })),
      secondsPerRun: ok.reduce((s, c) => s + c.seconds, 0) / Math.max(1, ok.length),
      curve: meanCurve(ok),
      failed: r.chosenLr === null ? (r.sweep.find((c) => c.error)?.error ?? "no score") : null,
    };
    const perSeed = Object.fromEntries(ok.map((c) => [c.seed, reported(c)!]));
    rows.push({
      ...base,
      variant: r.variant,
      perSeed,
      score: summarize(Object.values(perSeed)),
      validation: summarize(ok.map((c) => c.validation!)),
      versus: null,
    });
    const ranks = [...new Set(ok.flatMap((c) => Object.keys(c.ranks)))].map(Number).sort((a, b) => a - b);
    for (const k of ranks) {
      const at = Object.fromEntries(
        ok.map((c) => [c.seed, split === "test" ? c.ranks[k].test! : c.ranks[k].validation]),
      );
      rows.push({
        ...base,
        variant: dyloraRankRow(k),
        perSeed: at,
        score: summarize(Object.values(at)),
        validation: summarize(ok.map((c) => c.ranks[k].validation)),
        versus: null,
      });
    }
  }
  const bySeed = (row: Row): Map<number, number> =>
    new Map(Object.entries(row.perSeed).map(([s, v]) => [Number(s), v]));
  for (const row of rows) {
    const name = referenceVariant(row.variant);
    const ref = rows.find((x) => x.variant === name);
    if (ref && !row.failed && !ref.failed)
      row.versus = { reference: ref.variant, difference: pairedDifference(bySeed(row), bySeed(ref)) };
  }
  const plateau = plateauOf(
    metric,
    mine.find((r) => r.variant === "lora"),
  );
  return { task, metric, split, rows, baselines, plateau, unfinished };
}
