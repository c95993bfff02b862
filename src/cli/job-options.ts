import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { methodNames } from "../adapters/index.js";
import type { JobOptions } from "../train/index.js";

type Parse = (value: string) => unknown;

const int =
  (flag: string): Parse =>
  (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} expects a non-negative integer, got "${v}"`);
    return n;
  };
const num =
  (flag: string): Parse =>
  (v) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`${flag} expects a number, got "${v}"`);
    return n;
  };
const list: Parse = (v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const ints =
  (flag: string): Parse =>
  (v) =>
    (list(v) as string[]).map((s) => int(flag)(s));
const oneOf =
  (flag: string, allowed: readonly string[]): Parse =>
  (v) => {
    if (!allowed.includes(v)) throw new Error(`${flag} expects one of ${allowed.join(", ")}, got "${v}"`);
    return v;
  };

/** Every option of train/eval: its flag, key (also the config-file key), help, parser and default. */
const OPTIONS: { flag: string; key: string; help: string; parse?: Parse; def?: unknown; train?: boolean }[] =
  [
    { flag: "--model <dir>", key: "model", help: "HuggingFace model folder" },
    { flag: "--data <file>", key: "data", help: "training (or evaluation) data, .jsonl or .csv" },
    {
      flag: "--validation <file>",
      key: "validation",
      help: "validation data (default: --val-ratio of --data)",
      train: true,
    },
    {
      flag: "--val-ratio <r>",
      key: "valRatio",
      help: "fraction of --data held out for validation",
      parse: num("--val-ratio"),
      def: 0.1,
      train: true,
    },
    {
      flag: "--task <task>",
      key: "task",
      help: "causal-lm or classification",
      parse: oneOf("--task", ["causal-lm", "classification"]),
      def: "causal-lm",
    },
    { flag: "--text-field <name>", key: "textField", help: "field with the text", def: "text" },
    {
      flag: "--prompt-field <name>",
      key: "promptField",
      help: "causal-lm: prompt field (default: rows are read by their keys: text, prompt/completion, messages)",
    },
    { flag: "--completion-field <name>", key: "completionField", help: "causal-lm: completion field" },
    { flag: "--label-field <name>", key: "labelField", help: "classification: label field", def: "label" },
    {
      flag: "--labels <a,b>",
      key: "labels",
      help: "classification: class names in order (default: the model's id2label)",
      parse: list,
    },
    {
      flag: "--max-length <n>",
      key: "maxLength",
      help: "tokens per example",
      parse: int("--max-length"),
      def: 128,
    },
    {
      flag: "--pack",
      key: "pack",
      help: "causal-lm: pack whole examples into full blocks (none is cut first)",
      def: false,
      train: true,
    },
    {
      flag: "--mask-prompt",
      key: "maskPrompt",
      help: "causal-lm: loss on completions / assistant turns only",
      def: true,
    },
    { flag: "--no-mask-prompt", key: "maskPrompt", help: "causal-lm: loss on every token, prompts included" },
    {
      flag: "--full",
      key: "full",
      help: "train every parameter instead of an adapter",
      def: false,
      train: true,
    },
    {
      flag: "--method <name>",
      key: "method",
      help: `adapter method: ${methodNames().join(", ")}`,
      parse: oneOf("--method", methodNames()),
      def: "lora",
      train: true,
    },
    { flag: "--r <n>", key: "r", help: "adapter rank", parse: int("--r"), def: 8, train: true },
    {
      flag: "--alpha <a>",
      key: "alpha",
      help: "adapter alpha (scale alpha / r)",
      parse: num("--alpha"),
      def: 16,
      train: true,
    },
    {
      flag: "--dropout <p>",
      key: "dropout",
      help: "adapter input dropout",
      parse: num("--dropout"),
      def: 0,
      train: true,
    },
    {
      flag: "--target <names>",
      key: "target",
      help: 'modules to adapt (comma list, or "all-linear")',
      parse: (v) => (v === "all-linear" ? v : list(v)),
      def: ["q_proj", "v_proj"],
      train: true,
    },
    {
      flag: "--layers <i,j>",
      key: "layers",
      help: "adapt only these layers",
      parse: ints("--layers"),
      train: true,
    },
    {
      flag: "--modules-to-save <names>",
      key: "modulesToSave",
      help: "modules trained in full (e.g. classifier)",
      parse: list,
      train: true,
    },
    {
      flag: "--init <kind>",
      key: "init",
      help: "default, gaussian or better",
      parse: oneOf("--init", ["default", "gaussian", "better"]),
      train: true,
    },
    {
      flag: "--k <n>",
      key: "k",
      help: "hadamard / hadamard-add: number of factors",
      parse: int("--k"),
      train: true,
    },
    {
      flag: "--activation <a>",
      key: "activation",
      help: "hadamard: none, tanh or sigmoid",
      parse: oneOf("--activation", ["none", "tanh", "sigmoid"]),
      train: true,
    },
    { flag: "--use-rslora", key: "useRslora", help: "scale alpha / sqrt(r)", train: true },
    {
      flag: "--epochs <n>",
      key: "epochs",
      help: "passes over the data",
      parse: int("--epochs"),
      def: 1,
      train: true,
    },
    {
      flag: "--max-steps <n>",
      key: "maxSteps",
      help: "optimizer steps (overrides --epochs)",
      parse: int("--max-steps"),
      train: true,
    },
    {
      flag: "--batch-size <n>",
      key: "batchSize",
      help: "examples per micro-batch",
      parse: int("--batch-size"),
      def: 8,
    },
    {
      flag: "--grad-accum <n>",
      key: "gradAccum",
      help: "micro-batches per optimizer step",
      parse: int("--grad-accum"),
      def: 1,
      train: true,
    },
    { flag: "--lr <lr>", key: "lr", help: "peak learning rate", parse: num("--lr"), def: 1e-3, train: true },
    {
      flag: "--weight-decay <w>",
      key: "weightDecay",
      help: "weight decay (not on biases, norms, magnitudes)",
      parse: num("--weight-decay"),
      def: 0,
      train: true,
    },
    {
      flag: "--optimizer <name>",
      key: "optimizer",
      help: "adamw or sgd",
      parse: oneOf("--optimizer", ["adamw", "sgd"]),
      def: "adamw",
      train: true,
    },
    {
      flag: "--schedule <name>",
      key: "schedule",
      help: "constant, linear or cosine",
      parse: oneOf("--schedule", ["constant", "linear", "cosine"]),
      def: "linear",
      train: true,
    },
    {
      flag: "--warmup <n>",
      key: "warmup",
      help: "warm-up steps",
      parse: int("--warmup"),
      def: 0,
      train: true,
    },
    {
      flag: "--clip <norm>",
      key: "clip",
      help: "clip the global gradient norm",
      parse: num("--clip"),
      def: 1,
      train: true,
    },
    {
      flag: "--eval-every <n>",
      key: "evalEvery",
      help: "evaluate every n steps",
      parse: int("--eval-every"),
      train: true,
    },
    {
      flag: "--patience <n>",
      key: "patience",
      help: "stop after n evaluations without improvement",
      parse: int("--patience"),
      train: true,
    },
    {
      flag: "--checkpoint-every <n>",
      key: "checkpointEvery",
      help: "checkpoint every n steps",
      parse: int("--checkpoint-every"),
      train: true,
    },
    {
      flag: "--float32-weights",
      key: "float32Weights",
      help: "load bf16/f16 weights as float32 (default: frozen matrices stay in the file's precision)",
      def: false,
    },
    {
      flag: "--grad-checkpoint",
      key: "gradCheckpoint",
      help: "recompute each transformer block in the backward (less memory, ~1/3 more compute)",
      def: false,
      train: true,
    },
    { flag: "--seed <n>", key: "seed", help: "random seed", parse: int("--seed"), def: 0, train: true },
    {
      flag: "--out <dir>",
      key: "out",
      help: "output folder (adapter, checkpoints, metrics, plots); default: a fresh runs/<time>",
      train: true,
    },
    { flag: "--resume <dir>", key: "resume", help: "continue from a checkpoint folder", train: true },
    {
      flag: "--overwrite",
      key: "overwrite",
      help: "replace an earlier run in --out instead of refusing",
      train: true,
    },
  ];

/** Adds train's (or eval's) options, except the keys a command defines its own way, plus --config and --quiet. */
export function addJobOptions(
  cmd: Command,
  { train, except = [] }: { train: boolean; except?: string[] },
): Command {
  for (const o of OPTIONS) {
    if ((o.train && !train) || except.includes(o.key)) continue;
    if (o.parse) cmd.option(o.flag, o.help, o.parse as (v: string, p: unknown) => unknown, o.def);
    else cmd.option(o.flag, o.help, o.def as string | boolean | undefined);
  }
  return cmd
    .option("--config <file>", "JSON or YAML file with any of these options (flags override it)")
    .option("--quiet", "no progress output");
}

/** Options from defaults, then the config file, then flags given on the command line. */
export function resolveOptions(cmd: Command, { required = ["model", "data"] } = {}): Record<string, unknown> {
  const values = cmd.opts();
  const merged: Record<string, unknown> = { ...values };
  if (values.config) {
    const file = values.config as string;
    let fromFile: unknown;
    try {
      const text = readFileSync(file, "utf8");
      fromFile = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
    } catch (e) {
      throw new Error(`--config ${file}: ${(e as Error).message.split("\n")[0]}`);
    }
    if (typeof fromFile !== "object" || fromFile === null)
      throw new Error(`--config ${file}: expected an object of options`);
    const known = new Set(OPTIONS.map((o) => o.key));
    for (const [k, v] of Object.entries(fromFile)) {
      if (!known.has(k)) throw new Error(`--config ${file}: unknown option "${k}"`);
      if (cmd.getOptionValueSource(k) !== "cli") merged[k] = v;
    }
  }
  for (const key of required)
    if (!merged[key]) throw new Error(`--${key} is required (on the command line or in --config)`);
  return merged;
}

const pick = (o: Record<string, unknown>, keys: string[]): Record<string, unknown> =>
  Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

/** Options whose flag name differs from the library's field name. */
const renamed = (o: Record<string, unknown>, names: Record<string, string>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(names)
      .filter(([flag]) => o[flag] !== undefined)
      .map(([flag, field]) => [field, o[flag]]),
  );

/** The library's job options from resolved command-line options. */
export function toJobOptions(o: Record<string, unknown>): JobOptions {
  return {
    ...(pick(o, [
      "model",
      "data",
      "validation",
      "valRatio",
      "task",
      "textField",
      "promptField",
      "completionField",
      "labelField",
      "labels",
      "maxLength",
      "pack",
      "maskPrompt",
      "full",
      "gradCheckpoint",
      "float32Weights",
      "resume",
      "modelConfig",
    ]) as unknown as JobOptions),
    valRatio: (o.valRatio as number) ?? 0,
    pack: Boolean(o.pack),
    full: Boolean(o.full),
    adapter: {
      ...pick(o, [
        "method",
        "r",
        "alpha",
        "dropout",
        "modulesToSave",
        "init",
        "k",
        "activation",
        "useRslora",
      ]),
      ...renamed(o, { target: "targetModules", layers: "layersToTransform" }),
    } as unknown as JobOptions["adapter"],
    train: {
      ...pick(o, [
        "epochs",
        "maxSteps",
        "batchSize",
        "gradAccum",
        "lr",
        "weightDecay",
        "optimizer",
        "schedule",
        "evalEvery",
        "checkpointEvery",
        "seed",
      ]),
      ...renamed(o, {
        warmup: "warmupSteps",
        clip: "clipNorm",
        patience: "earlyStopPatience",
        out: "outDir",
      }),
    },
  };
}
