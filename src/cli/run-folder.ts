import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";

/** What a train run leaves in its output folder (docs/training.md). */
const RUN_FILES = [
  "adapter",
  "model",
  "best",
  "checkpoint",
  "checkpoint.tmp",
  "checkpoint.old",
  "metrics.jsonl",
  "loss.svg",
  "loss.png",
];

/** A fresh runs/<timestamp> folder (with a suffix if two runs start in the same second). */
function freshRunFolder(now = new Date()): string {
  const base = join("runs", now.toISOString().slice(0, 19).replace(/:/g, "-"));
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

/**
 * The folder a train run writes to (created when training starts), checked before any work: --out, else the folder of the
 * --resume checkpoint, else a fresh runs/<timestamp>. A folder holding an earlier run is refused
 * unless the run resumes it, or --overwrite clears that run's files (and nothing else).
 */
export function prepareRunFolder(o: { out?: string; resume?: string; overwrite?: boolean }): {
  dir: string;
  fresh: boolean;
} {
  const given = o.out ?? (o.resume ? dirname(o.resume) : undefined);
  const dir = given ?? freshRunFolder();
  const found = RUN_FILES.filter((f) => existsSync(join(dir, f)));
  if (found.length && !o.resume) {
    if (!o.overwrite)
      throw new Error(
        `--out ${dir}: holds an earlier run (${found.join(", ")}); pass --resume ${join(dir, "checkpoint")} to continue it, --overwrite to replace it, or another --out`,
      );
    for (const f of found) rmSync(join(dir, f), { recursive: true, force: true });
  }
  return { dir, fresh: given === undefined };
}
