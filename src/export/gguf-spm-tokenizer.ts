import { type GgufValue, gguf } from "../io/gguf.js";
import { TOKEN_TYPE } from "./gguf-token-types.js";

type Json = Record<string, unknown>;

/** SentencePiece's escaped space. */
const SPACE = "\u2581";
const BYTE_TOKEN = /^<0x[0-9A-F]{2}>$/i;
const byteToken = (b: number): string => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;

/** tokenizer.json models converted from SentencePiece BPE (Llama 2, TinyLlama, Mistral 7B). */
export const isSentencePieceBpe = (model: Json): boolean =>
  model.type === "BPE" && model.byte_fallback === true;

const isSpaceReplace = (n: Json): boolean =>
  n.type === "Replace" && (n.pattern as Json | undefined)?.String === " " && n.content === SPACE;
const isSpacePrepend = (n: Json): boolean => n.type === "Prepend" && n.prepend === SPACE;

/**
 * `tokenizer.ggml.add_space_prefix`: whether a ▁ goes before each stretch of text (llama.cpp
 * prepends it to the text and after each special token, as HF's normalizer applies per stretch).
 * llama.cpp always turns spaces into ▁, so the tokenizer must too: Llama 2's normalizer
 * (Prepend "▁", Replace " " → "▁"), the Replace alone, or a Metaspace pre-tokenizer.
 */
function addSpacePrefix(file: string, normalizer: Json | null, pre: Json | null): boolean {
  if (normalizer === null) {
    if (pre?.type === "Metaspace" && pre.replacement === SPACE)
      // @huggingface/tokenizers reads a missing prepend_scheme as "always".
      return (pre.prepend_scheme ?? "always") !== "never";
    throw new Error(
      `${file}: "pre_tokenizer" ${JSON.stringify(pre)?.slice(0, 120)} with no normalizer leaves spaces as they are; llama.cpp's SentencePiece tokenizer turns them into "${SPACE}" (a Metaspace pre-tokenizer or Llama 2's normalizer)`,
    );
  }
  const steps = normalizer.type === "Sequence" ? ((normalizer.normalizers ?? []) as Json[]) : [normalizer];
  const prepends = steps.filter(isSpacePrepend).length;
  if (
    pre === null &&
    steps.filter(isSpaceReplace).length === 1 &&
    prepends <= 1 &&
    steps.length === 1 + prepends
  )
    return prepends === 1;
  throw new Error(
    `${file}: "normalizer" ${JSON.stringify(normalizer).slice(0, 120)}${pre === null ? "" : " with a pre_tokenizer"} is not SentencePiece's (Prepend "${SPACE}", Replace " " → "${SPACE}"); llama.cpp's SentencePiece tokenizer cannot apply it`,
  );
}

/**
 * The rank of the first merge making each token. llama.cpp's SentencePiece tokenizer merges the
 * adjacent pair whose concatenation is the vocab token of highest score (leftmost on ties); HF's
 * BPE applies the merge of lowest rank (leftmost on ties). Converted from SentencePiece,
 * tokenizer.json lists every split of each piece as a merge, ranked by the piece's own score, so
 * score = −(first rank) makes llama.cpp merge in HF's order.
 */
function firstMergeRanks(merges: readonly (readonly string[])[]): Map<string, number> {
  const ranks = new Map<string, number>();
  merges.forEach(([a, b], rank) => {
    if (!ranks.has(a + b)) ranks.set(a + b, rank);
  });
  return ranks;
}

/**
 * The `tokenizer.*` keys for a SentencePiece-style tokenizer.json (BPE with byte_fallback):
 * model "llama", scores from the merges, `<0xXX>` tokens BYTE and the unknown token UNKNOWN,
 * add_space_prefix from the normalizer. `types` come in with added tokens already typed.
 */
export function sentencePieceKeys(
  file: string,
  json: Json,
  tokens: readonly string[],
  types: readonly number[],
  unk: number | null,
): [string, GgufValue][] {
  const model = json.model as Json;
  if (model.ignore_merges === true)
    throw new Error(`${file}: "model.ignore_merges" has no llama.cpp SentencePiece equivalent`);
  const spacePrefix = addSpacePrefix(
    file,
    (json.normalizer ?? null) as Json | null,
    (json.pre_tokenizer ?? null) as Json | null,
  );
  const known = new Set(tokens);
  const missing = Array.from({ length: 256 }, (_, b) => byteToken(b)).find((t) => !known.has(t));
  if (missing !== undefined)
    throw new Error(
      `${file}: "model.byte_fallback" needs the 256 tokens <0x00>…<0xFF>; ${missing} is missing`,
    );
  const merges = ((model.merges ?? []) as (string | string[])[]).map((m) =>
    Array.isArray(m) ? m : m.split(" "),
  );
  const ranks = firstMergeRanks(merges);
  // Tokens no merge makes (special, byte, single characters) are never a pair's concatenation.
  const scores = tokens.map((t) => 0 - (ranks.get(t) ?? 0));
  const spmTypes = types.map((type, id) =>
    id === unk
      ? TOKEN_TYPE.UNKNOWN
      : type === TOKEN_TYPE.NORMAL && BYTE_TOKEN.test(tokens[id])
        ? TOKEN_TYPE.BYTE
        : type,
  );
  // A longer token no merge makes is one HF never produces, but llama.cpp would merge into it.
  const unreachable = tokens.findIndex(
    (t, id) => spmTypes[id] === TOKEN_TYPE.NORMAL && [...t].length > 1 && !ranks.has(t),
  );
  if (unreachable >= 0)
    throw new Error(
      `${file}: token ${JSON.stringify(tokens[unreachable])} (id ${unreachable}) is in "model.vocab" but no merge makes it; llama.cpp's SentencePiece tokenizer would produce it where morelora does not`,
    );
  return [
    ["tokenizer.ggml.model", gguf.str("llama")],
    ["tokenizer.ggml.pre", gguf.str("default")],
    ["tokenizer.ggml.token_type", gguf.i32s(spmTypes)],
    ["tokenizer.ggml.scores", gguf.f32s(scores)],
    ["tokenizer.ggml.add_space_prefix", gguf.bool(spacePrefix)],
  ];
}
