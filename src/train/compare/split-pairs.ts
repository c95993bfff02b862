import type { JobOptions } from "../job.js";
import type { Example } from "../tasks.js";
import { type PromptCompletion, readPairs } from "./generation-score.js";

/** The prompt/completion pairs of a generation task's splits. */
export interface SplitPairs {
  train: PromptCompletion[];
  validation: PromptCompletion[];
  test: PromptCompletion[];
}

/** The pairs of the records that examples of `source` came from, in the examples' order. */
export function recordPairs(
  examples: readonly Example[],
  pairs: readonly PromptCompletion[],
  source: string,
): PromptCompletion[] {
  return examples.map((e) => {
    if (e.record === undefined)
      throw new Error(`${source}: packed examples cannot be scored by generation (leave out --pack)`);
    return pairs[e.record];
  });
}

/**
 * Each split's pairs: the records its examples came from (of its own file, or of the training file
 * for a --val-ratio split), so that generation is scored on what the loss is, and a record the
 * examples skipped (empty, or a prompt that fills --max-length) is not scored either.
 * `cache` keeps each file's pairs for the next cell.
 */
export async function splitPairs(
  opts: Pick<JobOptions, "data" | "validation" | "testFile" | "promptField" | "completionField">,
  examples: { train: readonly Example[]; validation: readonly Example[]; test: readonly Example[] },
  cache: Map<string, PromptCompletion[]>,
): Promise<SplitPairs> {
  const of = async (split: readonly Example[], file: string): Promise<PromptCompletion[]> => {
    let pairs = cache.get(file);
    if (!pairs) {
      pairs = await readPairs(file, opts.promptField ?? "prompt", opts.completionField ?? "completion");
      cache.set(file, pairs);
    }
    return recordPairs(split, pairs, file);
  };
  return {
    train: await of(examples.train, opts.data),
    validation: await of(examples.validation, opts.validation ?? opts.data),
    test: opts.testFile ? await of(examples.test, opts.testFile) : [],
  };
}
