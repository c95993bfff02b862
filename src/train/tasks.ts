import * as T from "../tensor/index.js";
import { Generator, type Tensor } from "../tensor/index.js";
import { type ChatEncoder, chatExample } from "./chat.js";
import { type DataRecord, readRecords, textField } from "./records.js";

/** What a task needs of a tokenizer (HFTokenizer has it); chat rows need its chat template too. */
export interface TextEncoder extends Partial<Omit<ChatEncoder, "encode">> {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  readonly eosId: number | null;
  readonly padId: number;
}

/** One training example: token ids, and per-token targets (causal LM, −100 = no loss) or a class. */
export interface Example {
  ids: Int32Array;
  targets?: Int32Array;
  label?: number;
  /** The record it came from: its 0-based place in its source (none for packed blocks). */
  record?: number;
}

export interface Batch {
  ids: Tensor;
  attentionMask: Tensor;
  /** [B, T] token targets (causal LM) or [B] class labels. */
  targets: Tensor;
  /** Tokens (causal LM) or examples (classification) that carry loss. */
  count: number;
}

export const IGNORE = -100;

export interface CausalLmData {
  kind: "causal-lm";
  /** Plain text field, or prompt/completion fields (loss on the completion only). */
  textField?: string;
  promptField?: string;
  completionField?: string;
  maxLength: number;
  /** Concatenate whole examples and cut the stream into maxLength blocks instead of padding each. */
  pack?: boolean;
  /** Loss on completions / assistant turns only (default true). */
  maskPrompt?: boolean;
}

export interface ClassificationData {
  kind: "classification";
  textField: string;
  labelField: string;
  /** Label names in class order; a numeric label is taken as the class index. */
  labels: string[];
  maxLength: number;
}

export type TaskData = CausalLmData | ClassificationData;

/**
 * Encodes only as much of a text as `tokens` tokens need, so a 50 MB record costs what its first
 * tokens cost. The text is cut at a space well past that many tokens' worth of characters; the
 * tokens before the cut are those of encoding it whole, since merges act only near the cut.
 */
function encodeHead(
  tok: TextEncoder,
  text: string,
  tokens: number,
  options?: { addSpecialTokens?: boolean },
): number[] {
  const margin = 16;
  for (let chars = 16 * (tokens + margin); chars < text.length; chars *= 4) {
    const space = text.lastIndexOf(" ", chars);
    const ids = tok.encode(text.slice(0, space > chars / 2 ? space : chars), options);
    if (ids.length > tokens + margin) return ids;
  }
  return tok.encode(text, options);
}

/** An example cut to maxLength tokens, whether it was longer, and whether its text was empty. */
type Cut = { example: Example; truncated: boolean; empty: boolean };

/**
 * How a causal-LM record is read, told by its keys as mlx-lm does: {"messages"} is chat (unless a
 * prompt field is named), {"prompt", "completion"} (or the configured fields) a pair, else text.
 */
export function causalRecordKind(
  record: DataRecord,
  d: { textField?: string; promptField?: string | null; completionField?: string | null },
): { kind: "chat" } | { kind: "pair"; prompt: string; completion: string } | { kind: "text" } {
  if (!d.promptField && Object.hasOwn(record, "messages")) return { kind: "chat" };
  const prompt = d.promptField ?? (d.textField === undefined || !(d.textField in record) ? "prompt" : null);
  const completion = d.completionField ?? "completion";
  return prompt && Object.hasOwn(record, prompt) && Object.hasOwn(record, completion)
    ? { kind: "pair", prompt, completion }
    : { kind: "text" };
}

/**
 * A causal-LM row, its kind told by its keys as mlx-lm does: {"messages"} (chat, rendered with the
 * model's template), {"prompt", "completion"} (or the configured prompt/completion fields), else
 * the text field. With maskPrompt (the default) only completions / assistant turns carry loss.
 * Packed examples are not cut to maxLength here: packing cuts the concatenation into blocks.
 */
function causalExample(record: DataRecord, where: string, tok: TextEncoder, d: CausalLmData): Cut {
  const eos = tok.eosId === null ? [] : [tok.eosId];
  const maskPrompt = d.maskPrompt ?? true;
  // Unpacked, only the first maxLength tokens are used: a long text is tokenized only that far.
  const encode = (text: string, options?: { addSpecialTokens?: boolean }): number[] =>
    d.pack ? tok.encode(text, options) : encodeHead(tok, text, d.maxLength, options);
  let ids: number[];
  let trained: boolean[];
  let empty = false;
  const kind = causalRecordKind(record, d);
  if (kind.kind === "chat") {
    if (!tok.applyChatTemplate)
      throw new Error(`${where}: a chat row ("messages"), but this tokenizer renders no chat template`);
    ({ ids, trained } = chatExample(record, where, tok as ChatEncoder, maskPrompt));
  } else if (kind.kind === "pair") {
    const promptText = textField(record, kind.prompt, where);
    const completionText = textField(record, kind.completion, where);
    empty = (promptText + completionText).trim() === "";
    const prompt = encode(promptText);
    const completion = [...encode(completionText, { addSpecialTokens: false }), ...eos];
    ids = [...prompt, ...completion];
    trained = ids.map((_, i) => !maskPrompt || i >= prompt.length);
  } else {
    const text = textField(record, d.textField ?? "text", where);
    empty = text.trim() === "";
    ids = [...encode(text), ...eos];
    trained = ids.map(() => true);
  }
  const kept = d.pack ? ids.length : Math.min(ids.length, d.maxLength);
  return {
    example: {
      ids: Int32Array.from(ids.slice(0, kept)),
      targets: Int32Array.from(ids.slice(0, kept).map((id, i) => (trained[i] ? id : IGNORE))),
    },
    truncated: ids.length > kept,
    empty,
  };
}

function classExample(record: DataRecord, where: string, tok: TextEncoder, d: ClassificationData): Cut {
  const raw = record[d.labelField];
  const label =
    typeof raw === "number" || /^\d+$/.test(String(raw)) ? Number(raw) : d.labels.indexOf(String(raw));
  if (!Number.isInteger(label) || label < 0 || label >= d.labels.length) {
    throw new Error(
      `${where}: label ${JSON.stringify(raw)} in field "${d.labelField}" is not one of ${d.labels.join(", ")}`,
    );
  }
  const text = textField(record, d.textField, where);
  const all = encodeHead(tok, text, d.maxLength);
  return {
    example: { ids: Int32Array.from(all.slice(0, d.maxLength)), label },
    truncated: all.length > d.maxLength,
    empty: text.trim() === "",
  };
}

/** Cuts the concatenation of examples into blocks of maxLength (the tail shorter than a block is dropped). */
function pack(examples: Example[], maxLength: number): Example[] {
  const ids = examples.flatMap((e) => [...e.ids]);
  const targets = examples.flatMap((e) => [...e.targets!]);
  const out: Example[] = [];
  for (let i = 0; i + maxLength <= ids.length; i += maxLength) {
    out.push({
      ids: Int32Array.from(ids.slice(i, i + maxLength)),
      targets: Int32Array.from(targets.slice(i, i + maxLength)),
    });
  }
  return out;
}

/** Where a warning goes: the library says it on stderr unless told otherwise. */
export type Warn = (message: string) => void;
const stderrWarn: Warn = (m) => console.warn(`morelora: ${m}`);

/** Collects examples, skipping empty texts and counting truncations, for one warning at the end. */
class ExampleSink {
  readonly examples: Example[] = [];
  private truncated = 0;
  private empty = 0;
  private lossless = 0;
  private records = 0;

  constructor(
    private readonly source: string,
    private readonly tok: TextEncoder,
    private readonly data: TaskData,
  ) {}

  add(record: DataRecord, where: string): void {
    this.records++;
    const d = this.data;
    const { example, truncated, empty } =
      d.kind === "causal-lm"
        ? causalExample(record, where, this.tok, d)
        : classExample(record, where, this.tok, d);
    if (empty) {
      this.empty++;
      return;
    }
    if (truncated) this.truncated++;
    // A prompt that fills maxLength leaves no completion token to learn from (a NaN loss).
    if (example.targets && !example.targets.some((t, i) => i > 0 && t !== IGNORE)) this.lossless++;
    else this.examples.push({ ...example, record: this.records - 1 });
  }

  finish(warn: Warn): Example[] {
    const d = this.data;
    if (this.records === 0) throw new Error(`${this.source}: no records`);
    if (this.examples.length === 0) {
      const why = this.empty
        ? `every text (${d.kind === "classification" ? d.textField : (d.textField ?? "text")}) is empty`
        : `no example keeps a token to learn from within --max-length ${d.maxLength}`;
      throw new Error(`${this.source}: ${why}`);
    }
    const notes = [
      this.truncated && !(d.kind === "causal-lm" && d.pack)
        ? `${this.truncated} of ${this.records} examples were longer than --max-length ${d.maxLength} tokens and were truncated`
        : "",
      this.lossless ? `${this.lossless} kept no completion token within it and were skipped` : "",
      this.empty ? `${this.empty} records with empty text were skipped` : "",
    ].filter(Boolean);
    if (notes.length) warn(`${this.source}: ${notes.join("; ")}`);
    return d.kind === "causal-lm" && d.pack ? pack(this.examples, d.maxLength) : this.examples;
  }
}

/** Examples of a task from records in memory; `source` names them in errors. */
export function examplesFromRecords(
  records: Iterable<DataRecord>,
  tok: TextEncoder,
  data: TaskData,
  source = "record",
  warn: Warn = stderrWarn,
): Example[] {
  const sink = new ExampleSink(source, tok, data);
  let n = 0;
  for (const record of records) sink.add(record, `${source} ${++n}`);
  return sink.finish(warn);
}

/** Reads a JSONL/CSV file (streamed) into examples of a task; one warning tells what was cut or skipped. */
export async function loadExamples(
  path: string,
  tok: TextEncoder,
  data: TaskData,
  warn: Warn = stderrWarn,
): Promise<Example[]> {
  const sink = new ExampleSink(path, tok, data);
  for await (const { record, line } of readRecords(path)) sink.add(record, `${path}:${line}`);
  return sink.finish(warn);
}

/** A seeded split: the first (1 − ratio) of a shuffled order for training, the rest for validation. */
export function splitExamples(
  examples: Example[],
  ratio: number,
  seed: number,
): { train: Example[]; validation: Example[] } {
  const order = shuffled(examples.length, new Generator(seed));
  const cut = Math.round(examples.length * (1 - ratio));
  return {
    train: order.slice(0, cut).map((i) => examples[i]),
    validation: order.slice(cut).map((i) => examples[i]),
  };
}

/** A Fisher–Yates permutation of 0..n−1 from a generator. */
export function shuffled(n: number, rng: Generator): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Pads examples (right side) into one batch. */
export function collate(examples: readonly Example[], padId: number): Batch {
  const length = Math.max(...examples.map((e) => e.ids.length));
  const n = examples.length;
  const ids = new Int32Array(n * length).fill(padId);
  const mask = new Int32Array(n * length);
  const causal = examples[0].targets !== undefined;
  const targets = causal ? new Int32Array(n * length).fill(IGNORE) : new Int32Array(n);
  let count = 0;
  examples.forEach((e, b) => {
    ids.set(e.ids, b * length);
    mask.fill(1, b * length, b * length + e.ids.length);
    if (causal) {
      targets.set(e.targets!, b * length);
      // Each position predicts the next token: targets shift left by one; the last has none.
      for (let t = 1; t < e.ids.length; t++) if (e.targets![t] !== IGNORE) count++;
    } else {
      targets[b] = e.label!;
      count++;
    }
  });
  return {
    ids: T.tensor(ids, [n, length]),
    attentionMask: T.tensor(mask, [n, length]),
    targets: causal ? T.tensor(targets, [n, length]) : T.tensor(targets, [n]),
    count,
  };
}

/** The task loss: next-token cross-entropy (targets shifted by one) or class cross-entropy. */
export function taskLoss(logits: Tensor, batch: Batch): Tensor {
  if (batch.targets.ndim === 1) return T.crossEntropy(logits, batch.targets, { ignoreIndex: IGNORE });
  const [b, t, v] = logits.shape;
  const predictions = T.reshape(T.slice(logits, 1, 0, t - 1), [b * (t - 1), v]);
  const next = T.reshape(T.slice(batch.targets, 1, 1, t), [b * (t - 1)]);
  return T.crossEntropy(predictions, next, { ignoreIndex: IGNORE });
}
