import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { specialToken } from "../../src/models/bpe.js";

/**
 * A SentencePiece-style tokenizer.json as Llama 2's (and TinyLlama's, Mistral 7B's) is laid out:
 * <unk>, <s>, </s>, the 256 byte-fallback tokens <0x00>…<0xFF>, then pieces learned by a small
 * BPE over CORPUS (▁ for spaces, as SentencePiece writes them) and the single characters; the
 * merges are every split of each piece into two tokens, ranked by the piece's order, as
 * transformers' SentencePiece converter writes them.
 */
const SPACE = "\u2581";

const CORPUS = `Call me Ishmael. Some years ago, never mind how long precisely, having little or no money
in my purse, and nothing particular to interest me on shore, I thought I would sail about a little
and see the watery part of the world. It is a way I have of driving off the spleen and regulating
the circulation. Whenever I find myself growing grim about the mouth, whenever it is a damp,
drizzly November in my soul, then I account it high time to get to sea as soon as I can.
The whale swam towards the ship, and the captain watched the water from the deck.
There is nothing surprising in this. If they but knew it, almost all men in their degree, some
time or other, cherish very nearly the same feelings towards the ocean with me.
    def sail(ship, sea):
        return ship.towards(sea)
The end of the story is the start of another one, and the sea is always there.`;

/** Pieces in the order a byte-pair merge learns them over the ▁-escaped words of CORPUS. */
function learnPieces(merges: number): string[] {
  const counts = new Map<string, number>();
  for (const line of CORPUS.split("\n"))
    for (const word of (SPACE + line.replaceAll(" ", SPACE)).match(/\u2581*[^\u2581]+/g) ?? [])
      counts.set(word, (counts.get(word) ?? 0) + 1);
  const words = [...counts].map(([w, n]) => ({ symbols: [...w], n }));
  const pieces: string[] = [];
  for (let step = 0; step < merges; step++) {
    const pairs = new Map<string, number>();
    for (const { symbols, n } of words)
      for (let i = 1; i < symbols.length; i++) {
        const key = `${symbols[i - 1]} ${symbols[i]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + n);
      }
    // The most frequent pair; ties go to the first in code-unit order, so the result is fixed.
    const best = [...pairs].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (!best) break;
    const [left, right] = best[0].split(" ");
    for (const w of words)
      for (let i = 1; i < w.symbols.length; i++)
        if (w.symbols[i - 1] === left && w.symbols[i] === right) w.symbols.splice(i - 1, 2, left + right);
    if (!pieces.includes(left + right)) pieces.push(left + right);
  }
  return pieces;
}

/** The vocab (token → id) and merges (in rank order) of the tokenizer. */
export function spmVocab(merges = 160): { vocab: Map<string, number>; merges: [string, string][] } {
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  const pieces = learnPieces(merges);
  const chars = [...new Set(CORPUS.replaceAll("\n", "").replaceAll(" ", SPACE))].sort();
  const vocab = new Map(["<unk>", "<s>", "</s>", ...bytes, ...pieces, ...chars].map((t, id) => [t, id]));
  const ranked = pieces.flatMap((piece) => {
    const cps = [...piece];
    const splits: [string, string][] = [];
    for (let i = 1; i < cps.length; i++) {
      const [l, r] = [cps.slice(0, i).join(""), cps.slice(i).join("")];
      if (vocab.has(l) && vocab.has(r)) splits.push([l, r]);
    }
    return splits.sort((a, b) => vocab.get(a[0])! - vocab.get(b[0])! || vocab.get(a[1])! - vocab.get(b[1])!);
  });
  return { vocab, merges: ranked };
}

/**
 * Writes tokenizer.json and tokenizer_config.json of the SentencePiece-style tokenizer into dir
 * (Llama 2's normalizer, post-processor and decoder); returns its vocab size. `edit` may change
 * the JSON first.
 */
export function writeSpmTokenizer(
  dir: string,
  edit: (json: Record<string, unknown>) => void = () => {},
): number {
  const { vocab, merges } = spmVocab();
  const bos = { SpecialToken: { id: "<s>", type_id: 0 } };
  const json: Record<string, unknown> = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [specialToken(0, "<unk>"), specialToken(1, "<s>"), specialToken(2, "</s>")],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Prepend", prepend: SPACE },
        { type: "Replace", pattern: { String: " " }, content: SPACE },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [bos, { Sequence: { id: "A", type_id: 0 } }],
      pair: [bos, { Sequence: { id: "A", type_id: 0 } }, bos, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: SPACE }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([l, r]) => `${l} ${r}`),
    },
  };
  edit(json);
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(json));
  writeFileSync(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({
      add_bos_token: true,
      add_eos_token: false,
      bos_token: "<s>",
      eos_token: "</s>",
      unk_token: "<unk>",
      pad_token: null,
      legacy: true,
      model_max_length: 128,
    }),
  );
  return vocab.size;
}
