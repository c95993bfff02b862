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

const normal = (s: string): string => s.trim().replace(/\s+/g, " ");

/**
 * The share of prompts whose greedy continuation (up to the end-of-text token) equals the
 * reference completion, whitespace normalised.
 */
export function exactMatch(model: Generative, tok: HFTokenizer, pairs: readonly PromptCompletion[]): number {
  let right = 0;
  for (const { prompt, completion } of pairs) {
    const reference = tok.encode(completion, { addSpecialTokens: false });
    const ids = generate(model, tok.encode(prompt), {
      maxNewTokens: reference.length + 4,
      stopTokens: tok.eosId === null ? [] : [tok.eosId],
    });
    if (normal(tok.decode(ids)) === normal(completion)) right++;
  }
  return right / Math.max(1, pairs.length);
}
