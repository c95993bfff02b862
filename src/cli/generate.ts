import { createInterface } from "node:readline";
import type { Command } from "commander";
import { PeftModel } from "../adapters/index.js";
import { generate, type Generative, HFTokenizer, loadModel, type PretrainedModel } from "../models/index.js";
import * as T from "../tensor/index.js";
import { noGrad } from "../tensor/index.js";
import { loadTaskModel } from "../train/index.js";
import { nonNegativeInt, positiveInt } from "./args.js";
import { slowProgress } from "./progress.js";

function probability(flag: string) {
  return (value: string): number => {
    const p = Number(value);
    if (!(p > 0 && p <= 1)) throw new Error(`${flag} expects a number in (0, 1], got "${value}"`);
    return p;
  };
}

function nonNegative(flag: string) {
  return (value: string): number => {
    const x = Number(value);
    if (!(x >= 0)) throw new Error(`${flag} expects a number ≥ 0, got "${value}"`);
    return x;
  };
}

interface GenerateFlags {
  model: string;
  adapter?: string;
  prompt?: string;
  maxNewTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
  chat?: boolean;
  labels?: string[];
  system?: string;
  repetitionPenalty?: number;
  stop: string[];
}

/** A classifier's answer for one text: each label with its probability, most likely first. */
function predict(model: PretrainedModel, tokenizer: HFTokenizer, text: string): void {
  const ids = T.tensor([tokenizer.encode(text)], { dtype: "int32" });
  const logits = noGrad(() => (model as unknown as { forward(ids: T.Tensor): T.Tensor }).forward(ids));
  const probs = T.softmax(logits, -1).data;
  const id2label = (model.hfConfig.id2label ?? {}) as Record<string, string>;
  const rows = Array.from(probs, (p, i) => [id2label[String(i)] ?? `LABEL_${i}`, p] as const);
  for (const [label, p] of rows.sort((a, b) => b[1] - a[1])) console.log(`${label}\t${p.toFixed(4)}`);
}

function positive(flag: string) {
  return (value: string): number => {
    const x = Number(value);
    if (!(x > 0)) throw new Error(`${flag} expects a number > 0, got "${value}"`);
    return x;
  };
}

/** How many trailing characters of text could be the start of a stop string. */
function heldBack(text: string, stops: readonly string[]): number {
  let held = 0;
  for (const s of stops)
    for (let k = Math.min(s.length - 1, text.length); k > held; k--)
      if (text.endsWith(s.slice(0, k))) held = k;
  return held;
}

export function registerGenerate(program: Command): void {
  program
    .command("generate")
    .description("continue a prompt with a causal LM (optionally with an adapter), streaming tokens")
    .requiredOption("--model <dir>", "HuggingFace model folder (config.json, safetensors, tokenizer.json)")
    .option("--adapter <dir>", "adapter folder to apply")
    .option(
      "--prompt <text>",
      "the prompt (with --chat and no --prompt: a chat, one user turn per line of input)",
    )
    .option("--max-new-tokens <n>", "tokens to generate", positiveInt("--max-new-tokens"), 64)
    .option("--temperature <t>", "0 is greedy; above 0 samples", nonNegative("--temperature"), 0)
    .option("--top-k <k>", "sample among the k most likely tokens", positiveInt("--top-k"))
    .option("--top-p <p>", "sample within probability mass p", probability("--top-p"))
    .option("--seed <n>", "random seed for sampling", nonNegativeInt("--seed"), 0)
    .option(
      "--chat",
      "wrap the prompt in the tokenizer's chat template as a user message; without --prompt, chat turn by turn",
    )
    .option(
      "--labels <a,b>",
      "classify instead: load a causal LM as its classifier for these labels (with an adapter that trained the head); a classifier folder needs no flag",
      (v) => v.split(","),
    )
    .option("--system <text>", "with --chat: a system message before the prompt")
    .option(
      "--repetition-penalty <p>",
      "divide the logits of tokens already seen by p (1 is none)",
      positive("--repetition-penalty"),
    )
    .option(
      "--stop <text>",
      "stop when this text appears (repeatable); it is not printed",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .action(async (opts: GenerateFlags) => {
      if (opts.prompt === undefined && !opts.chat)
        throw new Error("--prompt is required (or --chat without it, for a chat turn by turn)");
      if (opts.system !== undefined && !opts.chat)
        throw new Error("--system goes with --chat (a system message in the chat template)");
      const tokenizer = HFTokenizer.load(opts.model);
      // Only a terminal gets the loading bar: stdout carries the generated text.
      const loading = slowProgress("load", { quiet: !process.stderr.isTTY, unit: "tensors" });
      const onProgress = (done: number, total: number): void => loading.update(done, total);
      const model = opts.labels
        ? loadTaskModel(
            { model: opts.model, task: "classification", labels: opts.labels },
            console.warn,
            onProgress,
          )
        : loadModel(opts.model, { onProgress });
      if (opts.adapter) PeftModel.load(model, opts.adapter);
      if (model.architecture.endsWith("ForSequenceClassification")) {
        if (opts.prompt === undefined) throw new Error("--prompt: a classifier needs the text to classify");
        predict(model, tokenizer, opts.prompt);
        return;
      }
      if (!("newCache" in model))
        throw new Error(`--model: ${model.architecture} is not a causal language model`);
      const { max_position_embeddings: llama, n_positions: gpt2 } = model.hfConfig as Record<string, unknown>;
      const positions = (llama ?? gpt2) as number | undefined;
      const eos = tokenizer.eosId;

      /** Generates from text, streaming to stdout; returns the text generated (stop strings cut). */
      const complete = (text: string, addSpecialTokens: boolean, what: string): string => {
        const prompt = tokenizer.encode(text, { addSpecialTokens });
        if (positions !== undefined && prompt.length > positions)
          throw new Error(
            `${what}: ${prompt.length} tokens, more than the model's ${llama !== undefined ? "max_position_embeddings" : "n_positions"} (${positions})`,
          );
        const produced: number[] = [];
        let shown = "";
        let stopped = false;
        const started = performance.now();
        generate(model as unknown as Generative, prompt, {
          repetitionPenalty: opts.repetitionPenalty,
          stopWhen: () => stopped,
          maxNewTokens: opts.maxNewTokens,
          temperature: opts.temperature,
          topK: opts.topK,
          topP: opts.topP,
          seed: opts.seed,
          stopTokens: eos === null ? [] : [eos],
          onToken: (id) => {
            produced.push(id);
            let decoded = tokenizer.decode(produced);
            const cut = Math.min(...opts.stop.map((s) => decoded.indexOf(s)).filter((i) => i >= 0));
            if (Number.isFinite(cut)) [decoded, stopped] = [decoded.slice(0, cut), true];
            // Text that may still grow into a stop string is held back until it cannot.
            const held = stopped ? 0 : heldBack(decoded, opts.stop);
            process.stdout.write(decoded.slice(shown.length, decoded.length - held));
            shown = decoded.slice(0, Math.max(shown.length, decoded.length - held));
          },
        });
        const reply = stopped ? shown : tokenizer.decode(produced);
        process.stdout.write(`${reply.slice(shown.length)}\n`);
        const secs = (performance.now() - started) / 1000;
        console.error(
          `${produced.length} tokens in ${secs.toFixed(2)} s (${(produced.length / secs).toFixed(1)} tokens/s)`,
        );
        return reply;
      };

      const system = opts.system !== undefined ? [{ role: "system", content: opts.system }] : [];
      if (opts.prompt !== undefined) {
        const text = opts.chat
          ? tokenizer.applyChatTemplate([...system, { role: "user", content: opts.prompt }])
          : opts.prompt;
        complete(text, !opts.chat, "--prompt");
        return;
      }
      // A chat turn by turn: each line of input is a user turn; the whole conversation is the prompt.
      const messages = [...system];
      const ask = (): boolean => process.stdin.isTTY === true && process.stderr.write("> ");
      ask();
      for await (const line of createInterface({ input: process.stdin, terminal: false })) {
        if (line.trim() === "") continue;
        messages.push({ role: "user", content: line });
        const reply = complete(tokenizer.applyChatTemplate(messages), false, "the conversation");
        messages.push({ role: "assistant", content: reply });
        ask();
      }
    });
}
