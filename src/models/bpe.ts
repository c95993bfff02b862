/**
 * Byte-level BPE training (GPT-2's scheme) written out as a HuggingFace tokenizer.json that
 * @huggingface/tokenizers (and the Rust tokenizers) load: ByteLevel pre-tokenizer and decoder,
 * a BPE model with vocab and merges.
 */

/** GPT-2's pre-tokenization pattern (what ByteLevel with use_regex applies). */
const PRE_TOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's bytes_to_unicode: every byte to a printable character, so tokens are plain strings. */
export function byteToUnicode(): string[] {
  const printable = new Set<number>();
  for (const [a, b] of [
    [33, 126],
    [161, 172],
    [174, 255],
  ]) {
    for (let i = a; i <= b; i++) printable.add(i);
  }
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable.has(b) ? b : 256 + extra++));
}

export interface BpeOptions {
  vocabSize: number;
  /** Special tokens, given the first ids. */
  specialTokens?: string[];
  /** Pairs seen fewer times than this are not merged. */
  minFrequency?: number;
}

/** Trains merges on texts until the vocabulary (256 bytes + specials + merges) reaches vocabSize. */
export function trainBpe(
  texts: Iterable<string>,
  { vocabSize, specialTokens = [], minFrequency = 2 }: BpeOptions,
): { vocab: Map<string, number>; merges: [string, string][] } {
  const b2u = byteToUnicode();
  const encoder = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.matchAll(PRE_TOKENIZE)) {
      const w = Array.from(encoder.encode(m[0]), (b) => b2u[b]).join("");
      wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    }
  }
  const words = [...wordCounts.keys()].map((w) => Array.from(w));
  const counts = [...wordCounts.values()];
  // Pair → count, and pair → the words holding it, kept up to date as merges rewrite words.
  const pairCounts = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const key = (a: string, b: string): string => `${a}\u0000${b}`;
  const addPairs = (i: number, sign: number): void => {
    const w = words[i];
    for (let j = 0; j + 1 < w.length; j++) {
      const k = key(w[j], w[j + 1]);
      pairCounts.set(k, (pairCounts.get(k) ?? 0) + sign * counts[i]);
      if (sign > 0) {
        let set = pairWords.get(k);
        if (!set) pairWords.set(k, (set = new Set()));
        set.add(i);
      }
    }
  };
  words.forEach((_, i) => addPairs(i, 1));
  const vocab = new Map<string, number>();
  for (const s of specialTokens) vocab.set(s, vocab.size);
  for (const u of [...b2u].sort()) vocab.set(u, vocab.size);
  const merges: [string, string][] = [];
  while (vocab.size < vocabSize) {
    let best: string | null = null;
    let bestCount = minFrequency - 1;
    for (const [k, c] of pairCounts) {
      // Ties go to the smaller pair, so training is deterministic.
      if (c > bestCount || (c === bestCount && best !== null && k < best)) {
        best = k;
        bestCount = c;
      }
    }
    if (best === null || bestCount < minFrequency) break;
    const [a, b] = best.split("\u0000");
    const merged = a + b;
    merges.push([a, b]);
    if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    for (const i of pairWords.get(best) ?? []) {
      addPairs(i, -1);
      const w = words[i];
      const out: string[] = [];
      for (let j = 0; j < w.length; j++) {
        if (j + 1 < w.length && w[j] === a && w[j + 1] === b) {
          out.push(merged);
          j++;
        } else out.push(w[j]);
      }
      words[i] = out;
      addPairs(i, 1);
    }
    pairCounts.delete(best);
    pairWords.delete(best);
  }
  return { vocab, merges };
}

/** A special token as tokenizer.json's added_tokens lists it. */
export const specialToken = (id: number, content: string) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

/** The tokenizer.json object of a trained byte-level BPE. */
export function bpeTokenizerJson(
  vocab: Map<string, number>,
  merges: [string, string][],
  specialTokens: string[] = [],
): Record<string, unknown> {
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((content) => specialToken(vocab.get(content)!, content)),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}
