import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  crashPoint,
  loadSafetensors,
  readJsonFile,
  recoverDir,
  saveSafetensors,
  SafetensorsFile,
  writeDirAtomic,
  writeJsonFile,
} from "../io/index.js";
import type { GeneratorState } from "../tensor/index.js";
import type { OptimizerState } from "./optimizer.js";

export interface TrainerState {
  step: number;
  bestMetric: number | null;
  bestStep: number | null;
  rng: GeneratorState;
  /** Dropout generators of the trained model by module path, so dropout masks resume exactly. */
  dropout: Record<string, GeneratorState>;
  /** Evaluations without improvement, for early stopping. */
  patienceUsed: number;
  /** Bytes of metrics.jsonl written up to this checkpoint; resume cuts the log back to them. */
  metricsBytes: number;
  /** Set once the run has ended (its final evaluation logged): resuming it only saves the result. */
  finished: "done" | "early-stop" | null;
}

/**
 * A training checkpoint folder: the weights (adapter/ in PEFT format, or model/ for full fine-tuning,
 * written by the caller), optimizer.safetensors
 * (moments by parameter name; per-parameter step counts in the metadata), trainer_state.json.
 * It is written beside the old one and swapped in (writeDirAtomic), so a kill at any moment leaves
 * one whole checkpoint, and a failed write (disk full) leaves the previous one untouched.
 */
export function writeCheckpoint(
  dir: string,
  state: TrainerState,
  optimizer: OptimizerState,
  weightsName: string,
  saveWeights: (dir: string) => void,
): void {
  writeDirAtomic(dir, (tmp) => {
    saveWeights(join(tmp, weightsName));
    crashPoint("checkpoint-write");
    saveSafetensors(join(tmp, "optimizer.safetensors"), optimizer.tensors, {
      steps: JSON.stringify(optimizer.steps),
    });
    writeJsonFile(join(tmp, "trainer_state.json"), state);
  });
}

/** Reads a checkpoint folder, first finishing a swap that a kill interrupted; its weights are in weightsName/. */
export function readCheckpoint(
  dir: string,
  weightsName: string,
): {
  state: TrainerState;
  optimizer: OptimizerState;
  weightsDir: string;
} {
  const stateFile = join(dir, "trainer_state.json");
  if (!recoverDir(dir)) throw new Error(`${dir}: no such checkpoint folder`);
  if (!existsSync(stateFile)) throw new Error(`${dir}: not a training checkpoint (no trainer_state.json)`);
  const state = readJsonFile(stateFile) as TrainerState;
  const optFile = join(dir, "optimizer.safetensors");
  const f = SafetensorsFile.open(optFile);
  const steps = JSON.parse(f.metadata.steps ?? "{}") as Record<string, number>;
  f.close();
  return {
    state,
    optimizer: { tensors: loadSafetensors(optFile), steps },
    weightsDir: join(dir, weightsName),
  };
}
