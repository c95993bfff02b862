import { type Generative, generate, type HFTokenizer } from "../../models/index.js";
import { readRecords, textField } from "../records.js";

export interface PromptCompletion {
  prompt: string;
  completion: string;
}

/** The prompt/completion pairs of a JSONL/CSV file. */
export async function readPairs(
  file: string,
  promptField: string,
  completionField: string,
): Promise<PromptCompletion[]> {
  const out: PromptCompletion[] = [];
  for await (const { record, line } of readRecords(file)) {
    const where = `${file}:${line}`;
    out.push({
      prompt: textField(record, promptField, where),
      completion: textField(record, completionField, where),
    });
  }
  return out;
}

const units = (s: string): string[] =>
  s
    .trim()
    .split(/\s+/)
    .filter((u) => u !== "");

/** Levenshtein distance between two sequences of units: insertions, deletions and substitutions. */
export function editDistance(a: readonly string[], b: readonly string[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row.push(Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = row;
  }
  return previous[b.length];
}

export interface GenerationScores {
  /** The share of prompts whose greedy continuation equals the reference, whitespace normalised. */
  exactMatch: number;
  /**
   * 1 − the error rate over whitespace-separated units (phones for g2p, words otherwise): the edit
   * distances from each greedy continuation to its reference summed over the set, divided by the
   * references' units. Negative when the continuations hold more errors than the references units.
   */
  editAccuracy: number;
}

/** Greedy continuations (up to the end-of-text token) of every prompt, scored against the references. */
export function generationScores(
  model: Generative,
  tok: HFTokenizer,
  pairs: readonly PromptCompletion[],
): GenerationScores {
  let right = 0;
  let edits = 0;
  let total = 0;
  for (const { prompt, completion } of pairs) {
    const reference = tok.encode(completion, { addSpecialTokens: false });
    const ids = generate(model, tok.encode(prompt), {
      maxNewTokens: reference.length + 4,
      stopTokens: tok.eosId === null ? [] : [tok.eosId],
    });
    const got = units(tok.decode(ids));
    const want = units(completion);
    if (got.join(" ") === want.join(" ")) right++;
    edits += editDistance(got, want);
    total += want.length;
  }
  return { exactMatch: right / Math.max(1, pairs.length), editAccuracy: 1 - edits / Math.max(1, total) };
}
