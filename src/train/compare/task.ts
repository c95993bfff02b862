import type { AdapterConfigInput } from "../../adapters/index.js";
import type { JobOptions } from "../job.js";

/**
 * How a comparison task is scored: classification accuracy; exact match of greedy completions, or 1 −
 * their error rate over whitespace-separated units (src/train/compare/generation-score.ts); or −loss.
 */
export type CompareMetric = "accuracy" | "exact-match" | "edit-accuracy" | "loss";

/** Whether a metric scores greedy generations (then the task's data are prompt/completion pairs). */
export const isGenerative = (m: CompareMetric): m is "exact-match" | "edit-accuracy" =>
  m === "exact-match" || m === "edit-accuracy";

/** A task of a comparison: its data and model settings, its metric, and the head that trains with every adapter. */
export interface CompareTask {
  name: string;
  /** Data, model and length settings (the rest of a cell's job comes from the shared settings). */
  job: Partial<JobOptions> & Pick<JobOptions, "model" | "data" | "task">;
  metric: CompareMetric;
  /** Modules trained in full beside every adapter (a classifier head: PEFT's modules_to_save for SEQ_CLS). */
  head: string[];
  /** The head is not in the checkpoint (fresh): each seed draws it anew. */
  freshHead?: boolean;
  /**
   * Training steps of every cell of this task, in place of the shared --max-steps: each built-in
   * task trains as long as LoRA needs to plateau on it (docs/results.md).
   */
  maxSteps?: number;
  /** Modules every adapter of this task adapts, in place of the shared --target. */
  targetModules?: AdapterConfigInput["targetModules"];
}
