import { existsSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  loadSafetensors,
  makeDir,
  readJsonFile,
  saveSafetensors,
  SafetensorsFile,
  writeJsonFile,
} from "../io/index.js";
import type { OptimizerState } from "./optimizer.js";

export interface TrainerState {
  step: number;
  bestMetric: number | null;
  bestStep: number | null;
  rng: { s: number[]; spareNormal: number | null };
  /** Evaluations without improvement, for early stopping. */
  patienceUsed: number;
}

/**
 * A training checkpoint folder: adapter/ (PEFT format, written by the caller), optimizer.safetensors
 * (moments by parameter name; per-parameter step counts in the metadata), trainer_state.json.
 * It is written beside the old one and renamed over it, so a crash leaves one whole checkpoint.
 */
export function writeCheckpoint(
  dir: string,
  state: TrainerState,
  optimizer: OptimizerState,
  saveWeights: (dir: string) => void,
): void {
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  makeDir(tmp);
  saveWeights(join(tmp, "adapter"));
  saveSafetensors(join(tmp, "optimizer.safetensors"), optimizer.tensors, {
    steps: JSON.stringify(optimizer.steps),
  });
  writeJsonFile(join(tmp, "trainer_state.json"), state);
  const old = `${dir}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

export function readCheckpoint(dir: string): {
  state: TrainerState;
  optimizer: OptimizerState;
  weightsDir: string;
} {
  const stateFile = join(dir, "trainer_state.json");
  if (!existsSync(stateFile)) throw new Error(`${dir}: not a training checkpoint (no trainer_state.json)`);
  const state = readJsonFile(stateFile) as TrainerState;
  const optFile = join(dir, "optimizer.safetensors");
  const f = SafetensorsFile.open(optFile);
  const steps = JSON.parse(f.metadata.steps ?? "{}") as Record<string, number>;
  f.close();
  return { state, optimizer: { tensors: loadSafetensors(optFile), steps }, weightsDir: join(dir, "adapter") };
}
