import type { BaselineScore } from "./baselines.js";
import { editDistance, type PromptCompletion, scoreCompletions, units } from "./generation-score.js";
import type { SplitPairs } from "./split-pairs.js";

/** The completion seen most often in training (the first seen among equals). */
export function mostFrequentCompletion(train: readonly PromptCompletion[]): string {
  const counts = new Map<string, number>();
  let best = "";
  for (const { completion } of train) {
    const key = units(completion).join(" ");
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (n > (counts.get(best) ?? 0)) best = key;
  }
  return best;
}

/**
 * The completion of the training prompt nearest to `prompt` by edit distance over its units (for
 * g2p, the spelling closest to the word's; the first in training order among equals). Prompts
 * whose lengths differ by at least the best distance so far are skipped: their distance can only
 * be as large.
 */
export function nearestCompletion(
  train: readonly { units: string[]; completion: string }[],
  prompt: string,
): string {
  const mine = units(prompt);
  let best = Infinity;
  let completion = "";
  for (const t of train) {
    if (Math.abs(t.units.length - mine.length) >= best) continue;
    const d = editDistance(mine, t.units);
    if (d < best) [best, completion] = [d, t.completion];
    if (best === 0) break;
  }
  return completion;
}

/**
 * What "good" is for a generation task, on the cells' splits: a constant answer (the most frequent
 * training completion, the floor below which a method learned nothing, as the majority class is
 * for classification) and a lookup (the completion of the nearest training prompt). Neither trains
 * a parameter; both are scored as the cells are.
 */
export function generationBaselines(
  pairs: SplitPairs,
  metric: "exact-match" | "edit-accuracy",
): BaselineScore[] {
  // A baseline guesses a completion per prompt; its guesses are scored on each held-out split.
  const scored = (guess: (p: PromptCompletion) => string, held: readonly PromptCompletion[]): number => {
    const s = scoreCompletions(
      held.map(guess),
      held.map((p) => p.completion),
    );
    return metric === "exact-match" ? s.exactMatch : s.editAccuracy;
  };
  const baseline = (name: string, guess: (p: PromptCompletion) => string): BaselineScore => ({
    name,
    parameters: 0,
    validation: scored(guess, pairs.validation),
    test: pairs.test.length > 0 ? scored(guess, pairs.test) : null,
  });
  const constant = mostFrequentCompletion(pairs.train);
  const train = pairs.train.map((p) => ({ units: units(p.prompt), completion: p.completion }));
  return [
    { ...baseline("most frequent completion", () => constant), floor: true },
    baseline("nearest training prompt", (p) => nearestCompletion(train, p.prompt)),
  ];
}
