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
 * A causal-LM row, its kind told by its keys as mlx-lm does: {"messages"} (chat, rendered with the
 * model's template), {"prompt", "completion"} (or the configured prompt/completion fields), else
 * the text field. With maskPrompt (the default) only completions / assistant turns carry loss.
 * Packed examples are not cut to maxLength here: packing cuts the concatenation into blocks.
 */
function causalExample(record: DataRecord, where: string, tok: TextEncoder, d: CausalLmData): Example {
  const eos = tok.eosId === null ? [] : [tok.eosId];
  const maskPrompt = d.maskPrompt ?? true;
  let ids: number[];
  let trained: boolean[];
  const promptField =
    d.promptField ?? (d.textField === undefined || !(d.textField in record) ? "prompt" : null);
  const completionField = d.completionField ?? "completion";
  if (!d.promptField && Object.hasOwn(record, "messages")) {
    if (!tok.applyChatTemplate)
      throw new Error(`${where}: a chat row ("messages"), but this tokenizer renders no chat template`);
    ({ ids, trained } = chatExample(record, where, tok as ChatEncoder, maskPrompt));
  } else if (promptField && Object.hasOwn(record, promptField) && Object.hasOwn(record, completionField)) {
    const prompt = tok.encode(textField(record, promptField, where));
    const completion = [
      ...tok.encode(textField(record, completionField, where), { addSpecialTokens: false }),
      ...eos,
    ];
    ids = [...prompt, ...completion];
    trained = ids.map((_, i) => !maskPrompt || i >= prompt.length);
  } else {
    ids = [...tok.encode(textField(record, d.textField ?? "text", where)), ...eos];
    trained = ids.map(() => true);
  }
  const kept = d.pack ? ids.length : Math.min(ids.length, d.maxLength);
  return {
    ids: Int32Array.from(ids.slice(0, kept)),
    targets: Int32Array.from(ids.slice(0, kept).map((id, i) => (trained[i] ? id : IGNORE))),
  };
}

function classExample(record: DataRecord, where: string, tok: TextEncoder, d: ClassificationData): Example {
  const raw = record[d.labelField];
  const label =
    typeof raw === "number" || /^\d+$/.test(String(raw)) ? Number(raw) : d.labels.indexOf(String(raw));
  if (!Number.isInteger(label) || label < 0 || label >= d.labels.length) {
    throw new Error(
      `${where}: label ${JSON.stringify(raw)} in field "${d.labelField}" is not one of ${d.labels.join(", ")}`,
    );
  }
  const ids = tok.encode(textField(record, d.textField, where)).slice(0, d.maxLength);
  return { ids: Int32Array.from(ids), label };
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

/** Examples of a task from records in memory; `source` names them in errors. */
export function examplesFromRecords(
  records: Iterable<DataRecord>,
  tok: TextEncoder,
  data: TaskData,
  source = "record",
): Example[] {
  const out: Example[] = [];
  let n = 0;
  for (const record of records) out.push(toExample(record, `${source} ${++n}`, tok, data));
  return finish(out, data);
}

/** Reads a JSONL/CSV file (streamed) into examples of a task. */
export async function loadExamples(path: string, tok: TextEncoder, data: TaskData): Promise<Example[]> {
  const out: Example[] = [];
  for await (const { record, line } of readRecords(path))
    out.push(toExample(record, `${path}:${line}`, tok, data));
  if (out.length === 0) throw new Error(`${path}: no records`);
  return finish(out, data);
}

function toExample(record: DataRecord, where: string, tok: TextEncoder, data: TaskData): Example {
  return data.kind === "causal-lm"
    ? causalExample(record, where, tok, data)
    : classExample(record, where, tok, data);
}

function finish(examples: Example[], data: TaskData): Example[] {
  return data.kind === "causal-lm" && data.pack ? pack(examples, data.maxLength) : examples;
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
