import { closest } from "fastest-levenshtein";
import { defaultConfig, optionTable } from "../adapters/index.js";

const ADAPTER_DEFAULTS = defaultConfig();

/**
 * One option of a training or evaluation job, declared once (docs/options.md): the library field,
 * its type, default, allowed values and help. The CLI flags, the config-file keys and the
 * library's defaults (DEFAULT_TRAIN_CONFIG) all derive from these rows.
 */
export interface OptionSpec {
  /** The library's field name (camelCase), in JobOptions, its adapter or its train part. */
  key: string;
  /** Where the field lives: JobOptions itself, JobOptions.adapter, JobOptions.train, or the CLI only. */
  scope: "job" | "adapter" | "train" | "cli";
  /** The flag's name when it is not the kebab-case key ("clip" for clipNorm). */
  flag?: string;
  type: "string" | "integer" | "number" | "boolean" | "list" | "integers" | "map";
  /** undefined: no default (the option is absent unless given). */
  default?: unknown;
  values?: readonly string[];
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Exclusive upper bound. */
  below?: number;
  /** null is allowed (and means "off"). */
  nullable?: boolean;
  /** Only train-like commands (train, compare) take it, not eval. */
  trainOnly?: boolean;
  /** The flag's argument in help ("dir"); by default "n" for integers, else "value". */
  arg?: string;
  /** Other flag (and config-key) names for it, the ones other fine-tuning front ends use. */
  aliases?: readonly string[];
  help: string;
}

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (name: string): string => name.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());

/** The flag (and config-file) name of an option: "max-length". */
export const flagName = (o: OptionSpec): string => o.flag ?? kebab(o.key);

/** The job's options. Method-specific options are the methods' own (optionTable in adapters/). */
export const JOB_OPTIONS: readonly OptionSpec[] = [
  { key: "model", arg: "dir", scope: "job", type: "string", help: "HuggingFace model folder" },
  {
    key: "modelConfig",
    scope: "job",
    type: "map",
    help: "numeric fields of the model's config.json to override (resid_pdrop=0,attn_pdrop=0)",
  },
  {
    key: "data",
    arg: "file",
    scope: "job",
    type: "string",
    help: "training (or evaluation) data, .jsonl or .csv",
  },
  {
    key: "validation",
    arg: "file",
    scope: "job",
    type: "string",
    trainOnly: true,
    help: "validation data (default: --val-ratio of --data)",
  },
  {
    key: "valRatio",
    scope: "job",
    type: "number",
    default: 0.1,
    min: 0,
    below: 1,
    trainOnly: true,
    help: "fraction of --data held out for validation",
  },
  {
    key: "task",
    scope: "job",
    type: "string",
    default: "causal-lm",
    values: ["causal-lm", "classification"],
    help: "causal-lm or classification",
  },
  {
    key: "textField",
    arg: "field",
    scope: "job",
    type: "string",
    default: "text",
    help: "field with the text",
  },
  {
    key: "promptField",
    arg: "field",
    scope: "job",
    type: "string",
    help: "causal-lm: prompt field, with --completion-field (default: rows are read by their keys: text, prompt/completion, messages)",
  },
  { key: "completionField", arg: "field", scope: "job", type: "string", help: "causal-lm: completion field" },
  {
    key: "labelField",
    arg: "field",
    scope: "job",
    type: "string",
    default: "label",
    help: "classification: label field",
  },
  {
    key: "labels",
    arg: "a,b",
    scope: "job",
    type: "list",
    help: "classification: class names in order (default: the model's id2label)",
  },
  {
    key: "maxLength",
    scope: "job",
    type: "integer",
    default: 128,
    min: 1,
    aliases: ["max-seq-length"],
    help: "tokens per example",
  },
  {
    key: "pack",
    scope: "job",
    type: "boolean",
    default: false,
    trainOnly: true,
    help: "causal-lm: pack whole examples into full blocks (none is cut first)",
  },
  {
    key: "maskPrompt",
    scope: "job",
    type: "boolean",
    default: true,
    help: "causal-lm: loss on completions / assistant turns only",
  },
  {
    key: "full",
    scope: "job",
    type: "boolean",
    default: false,
    trainOnly: true,
    help: "train every parameter instead of an adapter (not with --method)",
  },
  {
    key: "gradCheckpoint",
    scope: "job",
    type: "boolean",
    default: false,
    trainOnly: true,
    help: "recompute each transformer block in the backward (less memory, ~1/3 more compute)",
  },
  {
    key: "float32Weights",
    scope: "job",
    type: "boolean",
    default: false,
    help: "load bf16/f16 weights as float32 (default: frozen matrices stay in the file's precision)",
  },
  {
    key: "method",
    arg: "name",
    scope: "adapter",
    type: "string",
    default: ADAPTER_DEFAULTS.method,
    trainOnly: true,
    help: "adapter method, optionally with :better or an option value (lora:better, hadamard:tanh)",
  },
  {
    key: "r",
    scope: "adapter",
    type: "integer",
    default: ADAPTER_DEFAULTS.r,
    min: 1,
    trainOnly: true,
    help: "adapter rank",
  },
  {
    key: "alpha",
    scope: "adapter",
    type: "number",
    default: ADAPTER_DEFAULTS.alpha,
    trainOnly: true,
    help: "adapter alpha (scale alpha / r)",
  },
  {
    key: "dropout",
    scope: "adapter",
    type: "number",
    default: ADAPTER_DEFAULTS.dropout,
    min: 0,
    below: 1,
    trainOnly: true,
    help: "adapter input dropout",
  },
  {
    key: "targetModules",
    arg: "names",
    scope: "adapter",
    flag: "target",
    type: "list",
    default: ["q_proj", "v_proj"],
    trainOnly: true,
    help: 'modules to adapt (comma list, or "all-linear")',
  },
  {
    key: "layersToTransform",
    arg: "i,j",
    scope: "adapter",
    flag: "layers",
    type: "integers",
    min: 0,
    trainOnly: true,
    help: "adapt only these layer indices",
  },
  {
    key: "layersPattern",
    arg: "names",
    scope: "adapter",
    type: "list",
    trainOnly: true,
    help: 'the name of the layer list in module paths ("layers", "h")',
  },
  {
    key: "modulesToSave",
    arg: "names",
    scope: "adapter",
    type: "list",
    trainOnly: true,
    help: "modules trained in full (e.g. classifier)",
  },
  {
    key: "bias",
    scope: "adapter",
    type: "string",
    default: ADAPTER_DEFAULTS.bias,
    values: ["none", "all", "lora_only"],
    trainOnly: true,
    help: "biases trained: none, all or lora_only",
  },
  {
    key: "rankPattern",
    scope: "adapter",
    type: "map",
    min: 1,
    trainOnly: true,
    help: "rank per module pattern (q_proj=4,v_proj=16)",
  },
  {
    key: "alphaPattern",
    scope: "adapter",
    type: "map",
    trainOnly: true,
    help: "alpha per module pattern (q_proj=8)",
  },
  {
    key: "useRslora",
    scope: "adapter",
    type: "boolean",
    default: ADAPTER_DEFAULTS.useRslora,
    trainOnly: true,
    help: "scale alpha / sqrt(r)",
  },
  {
    key: "init",
    scope: "adapter",
    type: "string",
    default: ADAPTER_DEFAULTS.init,
    values: ["default", "gaussian", "better"],
    trainOnly: true,
    help: "default, gaussian or better",
  },
  {
    key: "epochs",
    scope: "train",
    type: "integer",
    default: 1,
    min: 1,
    trainOnly: true,
    help: "passes over the data",
  },
  {
    key: "maxSteps",
    scope: "train",
    type: "integer",
    default: null,
    min: 1,
    nullable: true,
    trainOnly: true,
    aliases: ["iters"],
    help: "optimizer steps (overrides --epochs)",
  },
  { key: "batchSize", scope: "train", type: "integer", default: 8, min: 1, help: "examples per micro-batch" },
  {
    key: "gradAccum",
    scope: "train",
    type: "integer",
    default: 1,
    min: 1,
    trainOnly: true,
    help: "micro-batches per optimizer step",
  },
  {
    key: "lr",
    scope: "train",
    type: "number",
    default: 1e-3,
    above: 0,
    trainOnly: true,
    aliases: ["learning-rate"],
    help: "peak learning rate",
  },
  {
    key: "weightDecay",
    scope: "train",
    type: "number",
    default: 0,
    min: 0,
    trainOnly: true,
    help: "weight decay (not on biases, norms, magnitudes)",
  },
  {
    key: "optimizer",
    scope: "train",
    type: "string",
    default: "adamw",
    values: ["adamw", "sgd"],
    trainOnly: true,
    help: "adamw or sgd",
  },
  {
    key: "momentum",
    scope: "train",
    type: "number",
    default: 0.9,
    min: 0,
    below: 1,
    trainOnly: true,
    help: "sgd: momentum",
  },
  {
    key: "schedule",
    scope: "train",
    type: "string",
    default: "linear",
    values: ["constant", "linear", "cosine"],
    trainOnly: true,
    help: "constant, linear or cosine",
  },
  {
    key: "warmupSteps",
    scope: "train",
    flag: "warmup",
    type: "integer",
    default: 0,
    min: 0,
    trainOnly: true,
    help: "warm-up steps",
  },
  {
    key: "clipNorm",
    scope: "train",
    flag: "clip",
    type: "number",
    default: 1,
    above: 0,
    nullable: true,
    trainOnly: true,
    help: "clip the global gradient norm (null in a config file: no clipping)",
  },
  {
    key: "evalEvery",
    scope: "train",
    type: "integer",
    default: null,
    min: 1,
    nullable: true,
    trainOnly: true,
    aliases: ["steps-per-eval"],
    help: "evaluate every n steps",
  },
  {
    key: "valBatches",
    scope: "train",
    type: "integer",
    default: null,
    min: 1,
    nullable: true,
    trainOnly: true,
    help: "validation batches per evaluation during training (default: all)",
  },
  {
    key: "earlyStopPatience",
    scope: "train",
    flag: "patience",
    type: "integer",
    default: null,
    min: 1,
    nullable: true,
    trainOnly: true,
    help: "stop after n evaluations without improvement",
  },
  {
    key: "checkpointEvery",
    scope: "train",
    type: "integer",
    default: null,
    min: 1,
    nullable: true,
    trainOnly: true,
    aliases: ["save-every"],
    help: "checkpoint every n steps",
  },
  { key: "seed", scope: "train", type: "integer", default: 0, min: 0, trainOnly: true, help: "random seed" },
  {
    key: "outDir",
    arg: "dir",
    scope: "train",
    flag: "out",
    type: "string",
    default: null,
    nullable: true,
    trainOnly: true,
    help: "output folder (adapter, checkpoints, metrics, plots); default: a fresh runs/<time>",
  },
  {
    key: "resume",
    arg: "dir",
    scope: "job",
    type: "string",
    trainOnly: true,
    help: "continue from a checkpoint folder",
  },
  {
    key: "overwrite",
    scope: "cli",
    type: "boolean",
    trainOnly: true,
    help: "replace an earlier run in --out instead of refusing",
  },
];

const describe = (o: OptionSpec): string => {
  const or = o.nullable ? " (or null)" : "";
  if (o.values) return `one of ${o.values.join(", ")}${or}`;
  const bounds = [
    o.min !== undefined ? `≥ ${o.min}` : "",
    o.above !== undefined ? `> ${o.above}` : "",
    o.below !== undefined ? `< ${o.below}` : "",
  ].filter(Boolean);
  const range = bounds.length ? ` ${bounds.join(" and ")}` : "";
  const what = {
    string: "a string",
    integer: "an integer",
    number: "a number",
    boolean: "true or false",
    list: "a list of names",
    integers: "a list of integers",
    map: "an object of pattern → number",
  }[o.type];
  return `${what}${range}${or}`;
};

/** A value as the user wrote it (NaN and Infinity too, which JSON would print as null). */
const show = (v: unknown): string => (typeof v === "number" ? String(v) : (JSON.stringify(v) ?? String(v)));

function checkNumber(o: OptionSpec, v: unknown): number {
  const ok =
    typeof v === "number" &&
    Number.isFinite(v) &&
    (o.type !== "integer" && o.type !== "integers" ? true : Number.isInteger(v)) &&
    (o.min === undefined || v >= o.min) &&
    (o.above === undefined || v > o.above) &&
    (o.below === undefined || v < o.below);
  if (!ok) throw new Error(`expected ${describe(o)}, got ${show(v)}`);
  return v as number;
}

/** Checks a value (from a config file or the library), returning it; the error says what is allowed. */
export function checkOption(o: OptionSpec, v: unknown): unknown {
  const bad = (): never => {
    throw new Error(`expected ${describe(o)}, got ${show(v)}`);
  };
  if (v === null) return o.nullable ? null : bad();
  switch (o.type) {
    case "string":
      if (typeof v !== "string" || (o.values && !o.values.includes(v))) bad();
      return v;
    case "boolean":
      return typeof v === "boolean" ? v : bad();
    case "integer":
    case "number":
      return checkNumber(o, v);
    case "list":
      if (typeof v === "string" && o.key === "targetModules") return v; // "all-linear" or a regex
      if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) bad();
      return v;
    case "integers":
      if (!Array.isArray(v)) bad();
      return (v as unknown[]).map((x) => checkNumber(o, x));
    case "map":
      if (typeof v !== "object" || Array.isArray(v)) bad();
      return Object.fromEntries(
        Object.entries(v as object).map(([k, x]) => [k, checkNumber({ ...o, type: "number" }, x)]),
      );
  }
}

/** Reads an option's value from command-line text, then checks it. */
export function parseOptionText(o: OptionSpec, text: string): unknown {
  const list = (): string[] =>
    text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  const num = (s: string): number | string => (s.trim() === "" || Number.isNaN(Number(s)) ? s : Number(s));
  switch (o.type) {
    case "integer":
    case "number":
      return checkOption(o, num(text));
    case "list":
      return checkOption(o, o.key === "targetModules" && text === "all-linear" ? text : list());
    case "integers":
      return checkOption(o, list().map(num));
    case "map":
      return checkOption(
        o,
        Object.fromEntries(
          list().map((pair) => {
            const eq = pair.lastIndexOf("=");
            if (eq < 1) throw new Error(`expected pattern=number pairs, got "${pair}"`);
            return [pair.slice(0, eq), num(pair.slice(eq + 1))];
          }),
        ),
      );
    default:
      return checkOption(o, text);
  }
}

/**
 * The option a config-file key names: its key ("maxLength"), its flag ("max-length") or their
 * snake_case form; an unknown key is an error that suggests the nearest name.
 */
export function optionNamed(name: string, options: readonly OptionSpec[]): OptionSpec {
  const spellings = (o: OptionSpec): string[] =>
    [flagName(o), ...(o.aliases ?? [])].flatMap((f) => [f, camel(f)]).concat(o.key);
  const found = options.find((o) => spellings(o).includes(camel(name)) || spellings(o).includes(name));
  if (found) return found;
  const nearest = closest(name, options.flatMap(spellings));
  const option = options.find((o) => spellings(o).includes(nearest))!;
  throw new Error(`unknown option "${name}" (did you mean "${flagName(option)}"?)`);
}

/**
 * Every option of a job: the table above, then each registered method's own options (declared
 * in its file in src/adapters/methods/, docs/adding-a-method.md), which go to the adapter config.
 */
export function jobOptions(): OptionSpec[] {
  const methods = optionTable().map((o): OptionSpec => ({
    key: o.key,
    scope: "adapter",
    type: o.type,
    default: o.default,
    values: o.values,
    min: o.min,
    nullable: o.nullable,
    trainOnly: true,
    help: o.help,
  }));
  return [...JOB_OPTIONS, ...methods];
}

/** The defaults of one scope's options, by key. */
export function optionDefaults(scope: OptionSpec["scope"]): Record<string, unknown> {
  return Object.fromEntries(
    JOB_OPTIONS.filter((o) => o.scope === scope && o.default !== undefined).map((o) => [o.key, o.default]),
  );
}
