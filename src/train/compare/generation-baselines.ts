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
  const score = (guesses: string[], held: readonly PromptCompletion[]): number => {
    const s = scoreCompletions(
      guesses,
      held.map((p) => p.completion),
    );
    return metric === "exact-match" ? s.exactMatch : s.editAccuracy;
  };
  const constant = mostFrequentCompletion(pairs.train);
  const train = pairs.train.map((p) => ({ units: units(p.prompt), completion: p.completion }));
  const lookup = (held: readonly PromptCompletion[]): number =>
    score(
      held.map((p) => nearestCompletion(train, p.prompt)),
      held,
    );
  const test = pairs.test.length > 0;
  return [
    {
      name: "most frequent completion",
      parameters: 0,
      validation: score(
        pairs.validation.map(() => constant),
        pairs.validation,
      ),
      test: test
        ? score(
            pairs.test.map(() => constant),
            pairs.test,
          )
        : null,
      floor: true,
    },
    {
      name: "nearest training prompt",
      parameters: 0,
      validation: lookup(pairs.validation),
      test: test ? lookup(pairs.test) : null,
    },
  ];
}
