import type { MethodOption } from "./method.js";
import { methodNamed, optionTable } from "./methods/index.js";

export type BiasMode = "none" | "all" | "lora_only";
export type InitMode = "default" | "gaussian" | "better";

/**
 * The options methods declare for themselves: each method file adds its keys here (a TypeScript
 * module augmentation) next to the option's schema, so the method owns both.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface MethodOptions {}

/** A complete adapter configuration (docs/methods.md names the fields): the common fields and every method's options. */
export interface AdapterConfig extends MethodOptions {
  /** A registered method's name (methods/index.ts). */
  method: string;
  r: number;
  alpha: number;
  /** Dropout on the adapter path's input only (PEFT's placement). */
  dropout: number;
  /** Module names (path equals it or ends with "." + it), one regex string (full match), or "all-linear". */
  targetModules: string[] | string;
  /** Adapt only these layer indices ("update part of the layers"); null for all. */
  layersToTransform: number[] | null;
  /** The name of the layer list in module paths ("layers", "h", ...); null tries PEFT's usual names. */
  layersPattern: string[] | null;
  /** Modules trained in full and saved whole (e.g. a classification head). */
  modulesToSave: string[];
  bias: BiasMode;
  /** Per-module rank by pattern (matched as targetModules names, or as regex ending the path). */
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
  /** Scale alpha / sqrt(r) instead of alpha / r. */
  useRslora: boolean;
  init: InitMode;
  /** Seed of the initial values and of dropout masks. */
  seed: number;
}

export type AdapterConfigInput = Partial<AdapterConfig> & Pick<AdapterConfig, "targetModules">;

/** Every default: the fields every method shares, and each registered method's options. */
export function defaultConfig(): Omit<AdapterConfig, "targetModules"> {
  const common: Omit<AdapterConfig, "targetModules" | keyof MethodOptions> = {
    method: "lora",
    r: 8,
    alpha: 8,
    dropout: 0,
    layersToTransform: null,
    layersPattern: null,
    modulesToSave: [],
    bias: "none",
    rankPattern: {},
    alphaPattern: {},
    useRslora: false,
    init: "default",
    seed: 0,
  };
  const options = Object.fromEntries(
    optionTable().map((o) => [o.key, o.default]),
  ) as unknown as MethodOptions;
  return { ...common, ...options };
}

/** Checks a method option's value against its schema; the error names the key and what was expected. */
export function checkOption(option: MethodOption, value: unknown): unknown {
  if (value === null && option.nullable) return null;
  const fail = (expected: string): never => {
    throw new Error(`adapter config "${option.key}": expected ${expected}, got ${JSON.stringify(value)}`);
  };
  const min = option.min;
  switch (option.type) {
    case "boolean":
      if (typeof value !== "boolean") fail("true or false");
      break;
    case "string":
      if (option.values && !option.values.includes(value as string))
        fail(`one of ${option.values.join(", ")}`);
      else if (typeof value !== "string") fail("a string");
      break;
    case "integer":
      if (!Number.isInteger(value) || (min !== undefined && (value as number) < min))
        fail(min === 1 ? "a positive integer" : min === undefined ? "an integer" : `an integer ≥ ${min}`);
      break;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value) || (min !== undefined && value < min))
        fail(min === undefined ? "a number" : `a number ≥ ${min}`);
      break;
  }
  return value;
}

function oneOf<V extends string>(key: string, value: unknown, allowed: readonly V[]): V {
  if (!allowed.includes(value as V)) {
    throw new Error(
      `adapter config "${key}": expected one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
  return value as V;
}

function positiveInt(key: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new Error(`adapter config "${key}": expected a positive integer, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

function finite(key: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`adapter config "${key}": expected a number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function stringList(key: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`adapter config "${key}": expected a list of strings, got ${JSON.stringify(value)}`);
  }
  return value;
}

function numberMap(
  key: string,
  value: unknown,
  check: (k: string, v: unknown) => number,
): Record<string, number> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(
      `adapter config "${key}": expected an object of pattern → number, got ${JSON.stringify(value)}`,
    );
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, check(`${key}.${k}`, v)]));
}

/** Fills defaults and checks every field, naming the field and what was expected on error. */
export function resolveConfig(input: AdapterConfigInput): AdapterConfig {
  const defaults = defaultConfig();
  const known = new Set([...Object.keys(defaults), "targetModules"]);
  for (const key of Object.keys(input)) {
    if (!known.has(key))
      throw new Error(`adapter config: unknown field "${key}" (fields: ${[...known].join(", ")})`);
  }
  const c = { ...defaults, ...input } as AdapterConfig;
  const targets = c.targetModules;
  if (typeof targets !== "string") stringList("targetModules", targets);
  if (Array.isArray(targets) && targets.length === 0)
    throw new Error(`adapter config "targetModules": the list is empty`);
  const method = methodNamed(c.method).name;
  const options = Object.fromEntries(
    optionTable().map((o) => [o.key, checkOption(o, (c as unknown as Record<string, unknown>)[o.key])]),
  );
  const config: AdapterConfig = {
    ...c,
    ...options,
    method,
    r: positiveInt("r", c.r),
    alpha: finite("alpha", c.alpha),
    dropout: finite("dropout", c.dropout),
    layersToTransform:
      c.layersToTransform === null
        ? null
        : (Array.isArray(c.layersToTransform) ? c.layersToTransform : [c.layersToTransform]).map((l) => {
            if (!Number.isInteger(l) || l < 0) {
              throw new Error(
                `adapter config "layersToTransform": expected layer indices ≥ 0, got ${JSON.stringify(l)}`,
              );
            }
            return l;
          }),
    layersPattern:
      c.layersPattern === null
        ? null
        : stringList("layersPattern", Array.isArray(c.layersPattern) ? c.layersPattern : [c.layersPattern]),
    modulesToSave: stringList("modulesToSave", c.modulesToSave),
    bias: oneOf("bias", c.bias, ["none", "all", "lora_only"] as const),
    rankPattern: numberMap("rankPattern", c.rankPattern, positiveInt),
    alphaPattern: numberMap("alphaPattern", c.alphaPattern, finite),
    init: oneOf("init", c.init, ["default", "gaussian", "better"] as const),
    seed: finite("seed", c.seed),
  };
  if (config.dropout < 0 || config.dropout >= 1) {
    throw new Error(`adapter config "dropout": expected a value in [0, 1), got ${config.dropout}`);
  }
  // PEFT's LoraConfig refuses these too: layer selection needs a list of names to act on.
  if (typeof targets === "string" && (config.layersToTransform || config.layersPattern))
    throw new Error(
      `adapter config: "${config.layersToTransform ? "layersToTransform" : "layersPattern"}" cannot be used when "targetModules" is a regex or "all-linear" (PEFT refuses it); list module names instead`,
    );
  if (config.layersPattern && !config.layersToTransform)
    throw new Error(`adapter config: "layersPattern" needs "layersToTransform" (PEFT refuses it alone)`);
  if (typeof config.useRslora !== "boolean")
    throw new Error(`adapter config "useRslora": expected true or false`);
  return config;
}
