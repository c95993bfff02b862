import { type GgufValue, gguf } from "../io/gguf.js";
import { fileExists, joinPath, readJsonFile } from "../io/index.js";
import { HFTokenizer } from "../models/index.js";
import { isSentencePieceBpe, sentencePieceKeys } from "./gguf-spm-tokenizer.js";
import { TOKEN_TYPE } from "./gguf-token-types.js";

const { NORMAL, CONTROL, USER_DEFINED, UNUSED } = TOKEN_TYPE;

/**
 * Pre-tokenizer regexes of tokenizer.json → llama.cpp's `tokenizer.ggml.pre` names (the
 * pre-tokenizers llama.cpp implements by name; docs/export.md).
 */
const SPLIT_REGEXES: Record<string, string> = {
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+":
    "llama-bpe",
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+":
    "qwen2",
};

type Json = Record<string, unknown>;

/** The llama.cpp pre-tokenizer name that splits text as tokenizer.json's pre_tokenizer does. */
function preTokenizerName(file: string, pre: Json | null): string {
  // GPT-2's own: ByteLevel with its built-in regex (morelora's built-in tokenizer is one).
  if (pre?.type === "ByteLevel" && pre.use_regex !== false && pre.add_prefix_space !== true) return "gpt-2";
  const steps =
    pre?.type === "Sequence" && Array.isArray(pre.pretokenizers) ? (pre.pretokenizers as Json[]) : [];
  const split = steps.find((s) => s.type === "Split");
  const regex = (split?.pattern as { Regex?: unknown } | undefined)?.Regex;
  const last = steps[steps.length - 1];
  if (
    steps.length === 2 &&
    typeof regex === "string" &&
    last?.type === "ByteLevel" &&
    last.use_regex === false
  ) {
    const name = SPLIT_REGEXES[regex];
    if (name) return name;
  }
  throw new Error(
    `${file}: "pre_tokenizer" ${JSON.stringify(pre).slice(0, 120)} matches none of llama.cpp's pre-tokenizers that export knows (gpt-2, llama-bpe, qwen2); pass --tokenizer-pre NAME if you know which one splits text the same way`,
  );
}

const tokenText = (v: unknown): string | null =>
  typeof v === "string"
    ? v
    : v && typeof v === "object" && typeof (v as Json).content === "string"
      ? ((v as Json).content as string)
      : null;

/**
 * Tokens by id and their types: model.vocab NORMAL, added tokens CONTROL (special) or
 * USER_DEFINED, and ids the tokenizer lacks up to the model's vocab_size unused [PAD<id>]
 * entries, as llama.cpp's converter writes them.
 */
function vocabTable(file: string, json: Json, vocabSize: number): { tokens: string[]; types: number[] } {
  const tokens: (string | undefined)[] = new Array<string | undefined>(vocabSize);
  const types = new Array<number>(vocabSize).fill(NORMAL);
  const place = (id: number, text: string, type: number): void => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
      throw new Error(
        `${file}: token ${JSON.stringify(text)} has id ${id}, outside the model's vocab_size ${vocabSize}`,
      );
    tokens[id] = text;
    types[id] = type;
  };
  for (const [text, id] of Object.entries(((json.model as Json).vocab ?? {}) as Record<string, number>))
    place(id, text, NORMAL);
  for (const added of (json.added_tokens ?? []) as Json[])
    place(added.id as number, added.content as string, added.special ? CONTROL : USER_DEFINED);
  for (let i = 0; i < vocabSize; i++)
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types[i] = UNUSED;
    }
  return { tokens: tokens as string[], types };
}

/** The keys of a byte-level BPE tokenizer: model "gpt2", its pre-tokenizer and the merges. */
function byteLevelKeys(file: string, json: Json, types: number[], pre?: string): [string, GgufValue][] {
  if (json.normalizer !== null && json.normalizer !== undefined)
    throw new Error(`${file}: "normalizer" ${JSON.stringify(json.normalizer)} has no llama.cpp equivalent`);
  const merges = (((json.model as Json).merges ?? []) as (string | string[])[]).map((m) =>
    Array.isArray(m) ? m.join(" ") : m,
  );
  return [
    ["tokenizer.ggml.model", gguf.str("gpt2")],
    [
      "tokenizer.ggml.pre",
      gguf.str(pre ?? preTokenizerName(file, (json.pre_tokenizer ?? null) as Json | null)),
    ],
    ["tokenizer.ggml.token_type", gguf.i32s(types)],
    ["tokenizer.ggml.merges", gguf.strings(merges)],
  ];
}

/**
 * The `tokenizer.*` metadata that makes llama.cpp tokenize as morelora does: byte-level BPE
 * (GPT-2, Llama 3, Qwen2 and morelora's built-in model) as model "gpt2", SentencePiece-style
 * BPE with byte fallback (Llama 2, TinyLlama, Mistral 7B) as model "llama"; for both the tokens
 * by id, token types, special ids, whether a BOS/EOS is added, and the chat template.
 */
export function tokenizerMetadata(
  dir: string,
  vocabSize: number,
  modelConfig: Json,
  { pre }: { pre?: string } = {},
): Map<string, GgufValue> {
  const file = joinPath(dir, "tokenizer.json");
  if (!fileExists(file)) throw new Error(`${dir}: no tokenizer.json (export needs the model's tokenizer)`);
  const json = readJsonFile(file) as Json;
  const model = (json.model ?? {}) as Json;
  if (model.type !== "BPE")
    throw new Error(
      `${file}: "model" is ${String(model.type)}; export writes BPE tokenizers only (byte-level, or SentencePiece-style with byte_fallback)`,
    );
  const { tokens, types } = vocabTable(file, json, vocabSize);

  const configFile = joinPath(dir, "tokenizer_config.json");
  const config = fileExists(configFile) ? (readJsonFile(configFile) as Json) : {};
  const idOf = (key: string): number | null => {
    const text = tokenText(config[key]);
    if (text !== null) {
      const id = tokens.indexOf(text);
      if (id < 0)
        throw new Error(`${configFile}: "${key}" ${JSON.stringify(text)} is not a token of tokenizer.json`);
      return id;
    }
    const fromModel = modelConfig[`${key}_id`];
    return typeof fromModel === "number" ? fromModel : null;
  };
  const unk = idOf("unk_token");
  const keys = isSentencePieceBpe(model)
    ? sentencePieceKeys(file, json, tokens, types, unk)
    : byteLevelKeys(file, json, types, pre);
  // Whether the tokenizer itself adds BOS/EOS, seen by encoding with and without special tokens.
  const hf = HFTokenizer.load(dir);
  const plain = hf.encode("a", { addSpecialTokens: false });
  const full = hf.encode("a", { addSpecialTokens: true });
  const bos = idOf("bos_token");
  const eos = idOf("eos_token");
  const addBos = bos !== null && full.length > plain.length && full[0] === bos;
  const addEos = eos !== null && full.length > plain.length && full[full.length - 1] === eos;

  const out = new Map<string, GgufValue>([["tokenizer.ggml.tokens", gguf.strings(tokens)], ...keys]);
  // llama.cpp gives a BPE vocabulary without a BOS id the id 11; a model without BOS gets its
  // EOS id there instead (as GPT-2's files do) and add_bos_token false, so none is ever added.
  const bosOrEos = bos ?? eos;
  if (bosOrEos !== null) out.set("tokenizer.ggml.bos_token_id", gguf.u32(bosOrEos));
  if (eos !== null) out.set("tokenizer.ggml.eos_token_id", gguf.u32(eos));
  if (unk !== null) out.set("tokenizer.ggml.unknown_token_id", gguf.u32(unk));
  const padId = idOf("pad_token");
  if (padId !== null) out.set("tokenizer.ggml.padding_token_id", gguf.u32(padId));
  out.set("tokenizer.ggml.add_bos_token", gguf.bool(addBos));
  out.set("tokenizer.ggml.add_eos_token", gguf.bool(addEos));
  const template = chatTemplate(config.chat_template);
  if (template !== null) out.set("tokenizer.chat_template", gguf.str(template));
  return out;
}

/** tokenizer_config.json's chat_template: a string, or a list of named templates ("default"). */
function chatTemplate(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) {
    const named = (v as Json[]).find((t) => t.name === "default");
    return typeof named?.template === "string" ? named.template : null;
  }
  return null;
}
