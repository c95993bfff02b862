import { Template } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";
import { fileExists, joinPath, readJsonFile } from "../io/index.js";
import * as T from "../tensor/index.js";
import type { Tensor } from "../tensor/index.js";

export interface ChatMessage {
  role: string;
  content: string;
}

/** A special token as tokenizer_config.json writes it: a string or an AddedToken object. */
function tokenText(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string")
    return (v as { content: string }).content;
  return null;
}

/**
 * A HuggingFace tokenizer from tokenizer.json (+ tokenizer_config.json) through
 * @huggingface/tokenizers: encode, decode, special tokens, padded batches, chat templates.
 */
export class HFTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly config: Record<string, unknown>,
  ) {}

  static load(dir: string): HFTokenizer {
    const file = joinPath(dir, "tokenizer.json");
    if (!fileExists(file))
      throw new Error(`${dir}: no tokenizer.json (download it with the model: see docs/models.md)`);
    const configFile = joinPath(dir, "tokenizer_config.json");
    const config = fileExists(configFile) ? (readJsonFile(configFile) as Record<string, unknown>) : {};
    try {
      return new HFTokenizer(new Tokenizer(readJsonFile(file) as object, config), config);
    } catch (e) {
      throw new Error(`${file}: ${(e as Error).message}`);
    }
  }

  private special(key: string): number | null {
    const text = tokenText(this.config[key]);
    return text === null ? null : (this.tokenizer.token_to_id(text) ?? null);
  }

  get bosId(): number | null {
    return this.special("bos_token");
  }

  get eosId(): number | null {
    return this.special("eos_token");
  }

  /** The padding id: pad_token, else eos_token (the usual choice for decoders), else 0. */
  get padId(): number {
    return this.special("pad_token") ?? this.eosId ?? 0;
  }

  get paddingSide(): "left" | "right" {
    return this.config.padding_side === "left" ? "left" : "right";
  }

  get vocabSize(): number {
    return Object.keys(this.tokenizer.get_vocab()).length;
  }

  encode(text: string, { addSpecialTokens = true }: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  decode(ids: readonly number[], { skipSpecialTokens = true }: { skipSpecialTokens?: boolean } = {}): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }

  /** Token sequences padded to one length (the longest, capped at maxLength) as ids and mask [B, T]. */
  pad(
    sequences: readonly (readonly number[])[],
    { maxLength = Infinity, side = this.paddingSide } = {},
  ): { ids: Tensor; attentionMask: Tensor } {
    const length = Math.min(maxLength, Math.max(...sequences.map((s) => s.length)));
    const ids = new Int32Array(sequences.length * length).fill(this.padId);
    const mask = new Int32Array(sequences.length * length);
    sequences.forEach((seq, b) => {
      const kept = seq.slice(0, length);
      const start = side === "left" ? length - kept.length : 0;
      kept.forEach((id, t) => {
        ids[b * length + start + t] = id;
        mask[b * length + start + t] = 1;
      });
    });
    return {
      ids: T.tensor(ids, [sequences.length, length]),
      attentionMask: T.tensor(mask, [sequences.length, length]),
    };
  }

  get hasChatTemplate(): boolean {
    return typeof this.config.chat_template === "string";
  }

  /** Renders messages with the tokenizer's chat template (tokenizer_config.json's chat_template). */
  applyChatTemplate(
    messages: readonly ChatMessage[],
    { addGenerationPrompt = true, tools }: { addGenerationPrompt?: boolean; tools?: readonly unknown[] } = {},
  ): string {
    const source = this.config.chat_template;
    if (typeof source !== "string") throw new Error("this tokenizer has no chat_template");
    return new Template(source).render({
      messages,
      ...(tools ? { tools } : {}),
      add_generation_prompt: addGenerationPrompt,
      bos_token: tokenText(this.config.bos_token) ?? "",
      eos_token: tokenText(this.config.eos_token) ?? "",
    });
  }
}
