import type { ChatMessage } from "../models/index.js";
import type { DataRecord } from "./records.js";

/** What chat rows need of a tokenizer: encoding and the model's chat template. */
export interface ChatEncoder {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  readonly hasChatTemplate: boolean;
  applyChatTemplate(
    messages: readonly ChatMessage[],
    options?: { addGenerationPrompt?: boolean; tools?: readonly unknown[] },
  ): string;
}

/** A row's "messages" (and optional "tools"), checked: an error names the row and what is wrong. */
function chatRow(record: DataRecord, where: string): { messages: ChatMessage[]; tools?: unknown[] } {
  const messages = record.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new Error(`${where}: "messages" must be a non-empty list of {"role", "content"} objects`);
  messages.forEach((m: unknown, i) => {
    const { role, content } = (m ?? {}) as Record<string, unknown>;
    if (typeof role !== "string" || typeof content !== "string")
      throw new Error(
        `${where}: "messages"[${i}] must have string "role" and "content", got ${JSON.stringify(m)}`,
      );
  });
  if (record.tools !== undefined && !Array.isArray(record.tools))
    throw new Error(`${where}: "tools" must be a list`);
  return { messages: messages as ChatMessage[], tools: record.tools as unknown[] | undefined };
}

/**
 * A chat row rendered with the model's chat template and tokenized; with maskPrompt only the
 * assistant turns carry loss (mlx-lm's and TRL's default). Turn boundaries are found by rendering
 * the conversation up to each assistant turn (with the generation prompt) and through it, and
 * tokenizing those prefixes; a template whose prefixes do not tokenize as a prefix of the whole
 * is an error rather than a wrong mask.
 */
export function chatExample(
  record: DataRecord,
  where: string,
  tok: ChatEncoder,
  maskPrompt: boolean,
): { ids: number[]; trained: boolean[] } {
  if (!tok.hasChatTemplate)
    throw new Error(
      `${where}: a chat row ("messages"), but the model's tokenizer_config.json has no chat_template`,
    );
  const { messages, tools } = chatRow(record, where);
  const render = (upTo: number, addGenerationPrompt: boolean): number[] =>
    tok.encode(tok.applyChatTemplate(messages.slice(0, upTo), { addGenerationPrompt, tools }), {
      addSpecialTokens: false,
    });
  const ids = render(messages.length, false);
  const trained = new Array<boolean>(ids.length).fill(!maskPrompt);
  if (!maskPrompt) return { ids, trained };
  messages.forEach((m, i) => {
    if (m.role !== "assistant") return;
    const start = render(i, true).length;
    const through = render(i + 1, false);
    if (through.some((id, k) => id !== ids[k]))
      throw new Error(
        `${where}: the chat template's rendering up to message ${i} is not a prefix of the whole conversation's; cannot mask the prompt (use --no-mask-prompt)`,
      );
    trained.fill(true, start, through.length);
  });
  return { ids, trained };
}
