import type { Command } from "commander";
import { PeftModel } from "../adapters/index.js";
import { generate, type Generative, HFTokenizer, loadModel } from "../models/index.js";
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
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
  chat?: boolean;
}

export function registerGenerate(program: Command): void {
  program
    .command("generate")
    .description("continue a prompt with a causal LM (optionally with an adapter), streaming tokens")
    .requiredOption("--model <dir>", "HuggingFace model folder (config.json, safetensors, tokenizer.json)")
    .option("--adapter <dir>", "adapter folder to apply")
    .requiredOption("--prompt <text>", "the prompt")
    .option("--max-new-tokens <n>", "tokens to generate", positiveInt("--max-new-tokens"), 64)
    .option("--temperature <t>", "0 is greedy; above 0 samples", nonNegative("--temperature"), 0)
    .option("--top-k <k>", "sample among the k most likely tokens", positiveInt("--top-k"))
    .option("--top-p <p>", "sample within probability mass p", probability("--top-p"))
    .option("--seed <n>", "random seed for sampling", nonNegativeInt("--seed"), 0)
    .option("--chat", "wrap the prompt in the tokenizer's chat template as a user message")
    .action((opts: GenerateFlags) => {
      const tokenizer = HFTokenizer.load(opts.model);
      // Only a terminal gets the loading bar: stdout carries the generated text.
      const loading = slowProgress("load", { quiet: !process.stderr.isTTY, unit: "tensors" });
      const model = loadModel(opts.model, { onProgress: (done, total) => loading.update(done, total) });
      if (!("newCache" in model))
        throw new Error(`--model: ${model.architecture} is not a causal language model`);
      if (opts.adapter) PeftModel.load(model, opts.adapter);
      const text = opts.chat
        ? tokenizer.applyChatTemplate([{ role: "user", content: opts.prompt }])
        : opts.prompt;
      const prompt = tokenizer.encode(text, { addSpecialTokens: !opts.chat });
      const { max_position_embeddings: llama, n_positions: gpt2 } = model.hfConfig as Record<string, unknown>;
      const positions = (llama ?? gpt2) as number | undefined;
      if (positions !== undefined && prompt.length > positions)
        throw new Error(
          `--prompt: ${prompt.length} tokens, more than the model's ${llama !== undefined ? "max_position_embeddings" : "n_positions"} (${positions})`,
        );
      const produced: number[] = [];
      let shown = "";
      const eos = tokenizer.eosId;
      generate(model as unknown as Generative, prompt, {
        maxNewTokens: opts.maxNewTokens,
        temperature: opts.temperature,
        topK: opts.topK,
        topP: opts.topP,
        seed: opts.seed,
        stopTokens: eos === null ? [] : [eos],
        onToken: (id) => {
          produced.push(id);
          const decoded = tokenizer.decode(produced);
          process.stdout.write(decoded.slice(shown.length));
          shown = decoded;
        },
      });
      process.stdout.write("\n");
    });
}
