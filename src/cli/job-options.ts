import { existsSync, readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { parse as parseYaml } from "yaml";
import { recoverDir } from "../io/index.js";
import {
  checkOption,
  flagName,
  jobOptions,
  type JobOptions,
  type OptionSpec,
  optionNamed,
  parseOptionText,
  parseVariant,
} from "../train/index.js";

/** A method name in the grammar train, compare and demo share ("lora", "lora:better", "hadamard:tanh", "lora@4"). */
export function methodVariant(name: string, flag: string): Record<string, unknown> {
  return parseVariant(name, flag).adapter;
}

/** The options a command takes: train-like commands all, eval those without trainOnly. */
const optionsFor = (train: boolean): OptionSpec[] => jobOptions().filter((o) => train || !o.trainOnly);

/** commander's attribute for a flag: "max-length" → "maxLength". */
const camelFlag = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

const shown = (v: unknown): string => (Array.isArray(v) ? v.join(",") : String(v));

/** Reads a flag's text as its option's value; an error names the flag as typed. */
const parserFor =
  (o: OptionSpec, flag: string) =>
  (text: string): unknown => {
    try {
      return parseOptionText(o, text);
    } catch (e) {
      throw new Error(`${flag}: ${(e as Error).message}`);
    }
  };

/** The options each command was given by addJobOptions. */
const taken = new WeakMap<Command, OptionSpec[]>();

/**
 * Adds the job's options (from the one table in src/train/options.ts), except the keys a command
 * defines its own way, plus --config and --quiet.
 */
export function addJobOptions(
  cmd: Command,
  { train, except = [] }: { train: boolean; except?: string[] },
): Command {
  const specs = optionsFor(train).filter((o) => !except.includes(o.key));
  taken.set(cmd, specs);
  for (const o of specs) {
    const flag = `--${flagName(o)}`;
    if (o.type === "boolean") {
      // A switch that is on by default is turned off with --no-<name>.
      const on = o.default === true;
      cmd.addOption(
        new Option(on ? `--no-${flagName(o)}` : flag, on ? `turn off: ${o.help} (on by default)` : o.help),
      );
      continue;
    }
    const arg = ` <${o.arg ?? (o.type === "integer" ? "n" : "value")}>`;
    const def = o.default === undefined || o.default === null ? "" : ` (default: ${shown(o.default)})`;
    cmd.addOption(new Option(`${flag}${arg}`, `${o.help}${def}`).argParser(parserFor(o, flag)));
    // Aliases parse the same way; help shows the option once, under its own name.
    for (const alias of o.aliases ?? [])
      cmd.addOption(new Option(`--${alias}${arg}`, o.help).hideHelp().argParser(parserFor(o, `--${alias}`)));
  }
  return cmd
    .option("--config <file>", "JSON or YAML file with any of these options (flags override it)")
    .option("--quiet", "no progress output");
}

function readConfigFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    const text = readFileSync(file, "utf8");
    parsed = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new Error(`--config ${file}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new Error(`--config ${file}: expected an object of options`);
  return parsed as Record<string, unknown>;
}

/**
 * The job's options by library key: the table's defaults, then the config file (keys spelled
 * "max-length" or "maxLength", each checked like its flag), then the flags given. Checks that
 * span options run here too, so every bad input stops before any work.
 */
export function resolveOptions(
  cmd: Command,
  { required = ["model", "data"] }: { required?: string[] } = {},
): Record<string, unknown> {
  const specs = taken.get(cmd) ?? [];
  const train = specs.some((o) => o.trainOnly);
  const flags = cmd.opts();
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  if (flags.config) {
    const file = flags.config as string;
    for (const [name, v] of Object.entries(readConfigFile(file))) {
      const where = `--config ${file}: "${name}"`;
      let o: OptionSpec;
      try {
        o = optionNamed(name, specs);
        values[o.key] = checkOption(o, v);
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
      }
      given.add(o.key);
    }
  }
  for (const o of specs) {
    for (const name of [flagName(o), ...(o.aliases ?? [])]) {
      const attr = camelFlag(name);
      if (cmd.getOptionValueSource(attr) !== "cli") continue;
      values[o.key] = flags[attr];
      given.add(o.key);
    }
  }
  for (const o of specs) if (!(o.key in values) && o.default !== undefined) values[o.key] = o.default;
  for (const key of required)
    if (!values[key]) throw new Error(`--${key} is required (on the command line or in --config)`);
  // A checkpoint a kill left mid-swap is put back first (docs/training.md).
  if (typeof values.resume === "string") recoverDir(values.resume);
  for (const key of ["model", "data", "validation", "resume"])
    if (typeof values[key] === "string" && !existsSync(values[key] as string))
      throw new Error(`--${key} ${values[key] as string}: no such file or folder`);
  if (values.full && given.has("method"))
    throw new Error("--full trains every parameter and takes no --method (give one of them)");
  if (Boolean(values.promptField) !== Boolean(values.completionField))
    throw new Error("--prompt-field and --completion-field go together (give both, or neither)");
  if (train && typeof values.method === "string") methodVariant(values.method, "--method");
  return { ...flags, ...values };
}

/** The library's job options from resolved options: each option goes to its table scope. */
export function toJobOptions(o: Record<string, unknown>): JobOptions {
  const scoped = (scope: OptionSpec["scope"]): Record<string, unknown> =>
    Object.fromEntries(
      jobOptions()
        .filter((s) => s.scope === scope && o[s.key] !== undefined)
        .map((s) => [s.key, o[s.key]]),
    );
  const adapter = scoped("adapter");
  return {
    ...(scoped("job") as unknown as JobOptions),
    valRatio: (o.valRatio as number) ?? 0,
    modelConfig: o.modelConfig as Record<string, unknown> | undefined,
    adapter: {
      ...adapter,
      ...(typeof adapter.method === "string" ? methodVariant(adapter.method, "--method") : {}),
    } as JobOptions["adapter"],
    train: scoped("train"),
  };
}
