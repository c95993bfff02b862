import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeDir, writeJsonFile } from "../../io/index.js";

/** One training run of a comparison. */
export interface CellKey {
  task: string;
  variant: string;
  lr: number;
  seed: number;
  /**
   * Training steps, only where a cell trains longer than its task's cells: LoRA's plateau check
   * trains once at twice the steps (protocol.ts).
   */
  steps?: number;
}

/** Validation loss (and accuracy) at a step, on the curve's share of validation (run-cell.ts), with the mean training loss since the previous point. */
export interface CurvePoint {
  step: number;
  trainLoss: number;
  validationLoss: number;
  validationAccuracy?: number;
}

/** A finished cell: its scores on validation (which choose) and test (which report). */
export interface Cell extends CellKey {
  /** The shared settings the cell was trained with (a resumed run must use the same). */
  settings: Record<string, unknown>;
  parameters: number;
  /** The task metric; null when training stopped on a non-finite loss. */
  validation: number | null;
  test: number | null;
  /** DyLoRA read at lower ranks: the metric per rank. */
  ranks: Record<string, { validation: number; test: number | null }>;
  curve: CurvePoint[];
  seconds: number;
  error: string | null;
}

const slug = (s: string): string => s.replace(/[^A-Za-z0-9.-]+/g, "_");

/**
 * Finished cells on disk, one JSON file each (written atomically as the cell finishes), so a long
 * comparison can stop at any moment and continue with --resume.
 */
export class CellStore {
  constructor(
    readonly dir: string,
    resume: boolean,
  ) {
    if (!resume && this.files().length)
      throw new Error(
        `${dir}: holds finished cells of an earlier comparison; pass --resume to continue it, or choose another --out`,
      );
  }

  private files(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".json") && !f.split(/[\\/]/).pop()!.startsWith("."))
      .map((f) => join(this.dir, f));
  }

  path(key: CellKey): string {
    const steps = key.steps === undefined ? "" : `-steps${key.steps}`;
    return join(this.dir, slug(key.task), slug(key.variant), `lr${key.lr}-seed${key.seed}${steps}.json`);
  }

  /** The finished cell, if any; an error naming the setting if it was trained with other settings. */
  get(key: CellKey, settings: Record<string, unknown>): Cell | null {
    const path = this.path(key);
    if (!existsSync(path)) return null;
    const cell = JSON.parse(readFileSync(path, "utf8")) as Cell;
    const differs = firstDifference(cell.settings, settings);
    if (differs)
      throw new Error(
        `${path}: trained with ${differs.path} = ${differs.was}, this run has ${differs.now}; resume with the same settings or choose another --out`,
      );
    return cell;
  }

  put(cell: Cell): void {
    const path = this.path(cell);
    makeDir(join(path, ".."));
    writeJsonFile(path, cell);
  }
}

/** The first dotted path where two JSON values differ, with both sides. */
function firstDifference(
  a: unknown,
  b: unknown,
  path = "",
): { path: string; was: string; now: string } | null {
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const [x, y] = [a as Record<string, unknown>, b as Record<string, unknown>];
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const d = firstDifference(x[k], y[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  const [was, now] = [JSON.stringify(a) ?? "(none)", JSON.stringify(b) ?? "(none)"];
  return was === now ? null : { path, was, now };
}
