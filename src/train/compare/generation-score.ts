import { type Generative, greedyBatch, type HFTokenizer } from "../../models/index.js";
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

/** The whitespace-separated units of a text (phones for g2p, words otherwise). */
export const units = (s: string): string[] =>
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

/** Prompts decoded together: same-length prompts share each forward (greedyBatch). */
const DECODE_BATCH = 64;

/** Greedy continuations (up to the end-of-text token) of every prompt, scored against the references. */
export function generationScores(
  model: Generative,
  tok: HFTokenizer,
  pairs: readonly PromptCompletion[],
): GenerationScores {
  const prompts = pairs.map((p) => tok.encode(p.prompt));
  // Up to four tokens beyond the reference: room for a wrong guess, and a bound on rambling.
  const limits = pairs.map((p) => tok.encode(p.completion, { addSpecialTokens: false }).length + 4);
  const stops = tok.eosId === null ? [] : [tok.eosId];
  const generated: number[][] = new Array(pairs.length);
  const byLength = new Map<number, number[]>();
  prompts.forEach((p, i) => {
    const group = byLength.get(p.length) ?? [];
    byLength.set(p.length, group);
    group.push(i);
  });
  for (const group of byLength.values())
    for (let start = 0; start < group.length; start += DECODE_BATCH) {
      const rows = group.slice(start, start + DECODE_BATCH);
      const out = greedyBatch(
        model,
        rows.map((i) => prompts[i]),
        rows.map((i) => limits[i]),
        stops,
      );
      rows.forEach((i, j) => (generated[i] = out[j]));
    }
  return scoreCompletions(
    generated.map((ids) => tok.decode(ids)),
    pairs.map((p) => p.completion),
  );
}

/** Completions (decoded, or a baseline's guesses) scored against their references. */
export function scoreCompletions(
  completions: readonly string[],
  references: readonly string[],
): GenerationScores {
  let right = 0;
  let edits = 0;
  let total = 0;
  references.forEach((reference, i) => {
    const got = units(completions[i]);
    const want = units(reference);
    if (got.join(" ") === want.join(" ")) right++;
    edits += editDistance(got, want);
    total += want.length;
  });
  return { exactMatch: right / Math.max(1, references.length), editAccuracy: 1 - edits / Math.max(1, total) };
}
