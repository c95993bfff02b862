export type ScheduleName = "constant" | "linear" | "cosine";

/**
 * The learning-rate factor at an optimizer step (1-based), as HF's get_*_schedule_with_warmup:
 * linear warm-up from 0 over warmupSteps, then constant, linear decay to 0, or half a cosine to 0
 * at totalSteps.
 */
export function lrFactor(
  step: number,
  { schedule, warmupSteps, totalSteps }: { schedule: ScheduleName; warmupSteps: number; totalSteps: number },
): number {
  const s = step - 1;
  if (s < warmupSteps) return s / Math.max(1, warmupSteps);
  if (schedule === "constant") return 1;
  const progress = (s - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  if (schedule === "linear") return Math.max(0, 1 - progress);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
}
