import type { JobOptions } from "../job.js";
import type { Example } from "../tasks.js";
import { type PromptCompletion, readPairs } from "./generation-score.js";

/** The prompt/completion pairs of a generation task's splits. */
export interface SplitPairs {
  train: PromptCompletion[];
  validation: PromptCompletion[];
  test: PromptCompletion[];
}

/**
 * The pairs of the records that examples came from (a --val-ratio split of `source`), so that
 * generation is scored on the same split the loss is.
 */
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
 * Each split's pairs: a split with its own file is scored on every record of it; a split held out
 * of the training file (--val-ratio), and the training split, on the records of their examples.
 * `cache` keeps each file's pairs for the next cell.
 */
export async function splitPairs(
  opts: Pick<JobOptions, "data" | "validation" | "testFile" | "promptField" | "completionField">,
  examples: { train: readonly Example[]; validation: readonly Example[] },
  cache: Map<string, PromptCompletion[]>,
): Promise<SplitPairs> {
  const read = async (file: string): Promise<PromptCompletion[]> => {
    const hit = cache.get(file);
    if (hit) return hit;
    const pairs = await readPairs(file, opts.promptField ?? "prompt", opts.completionField ?? "completion");
    cache.set(file, pairs);
    return pairs;
  };
  const data = await read(opts.data);
  return {
    train: recordPairs(examples.train, data, opts.data),
    validation: opts.validation
      ? await read(opts.validation)
      : recordPairs(examples.validation, data, opts.data),
    test: opts.testFile ? await read(opts.testFile) : [],
  };
}
