export const METHOD_NAMES = [
  "lora",
  "dora",
  "moslora",
  "condlora",
  "dylora",
  "additive",
  "hadamard",
  "hadamard-add",
  "loha",
] as const;
export type MethodName = (typeof METHOD_NAMES)[number];
export type BiasMode = "none" | "all" | "lora_only";
export type InitMode = "default" | "gaussian" | "better";
export type Activation = "none" | "tanh" | "sigmoid";

/** A complete adapter configuration (methods.md §8 names the fields). */
export interface AdapterConfig {
  method: MethodName;
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
  /** Hadamard and Hadamard-Add: the number of factors the rank budget r is split into. */
  k: number;
  /** Hadamard: the activation applied to each factor product before the Hadamard product. */
  activation: Activation;
  /** MoSLoRA: the r×r mixer's initial values. */
  mixerInit: "kaiming" | "orthogonal";
  /** DyLoRA: only the newest sampled rank component learns each step (the reference code's mode). */
  dyloraFrozen: boolean;
  /** DyLoRA: the rank used outside training (eval, merge, save); null means r. */
  dyloraRank: number | null;
}

export type AdapterConfigInput = Partial<AdapterConfig> & Pick<AdapterConfig, "targetModules">;

export const DEFAULT_CONFIG: Omit<AdapterConfig, "targetModules"> = {
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
  k: 2,
  activation: "none",
  mixerInit: "kaiming",
  dyloraFrozen: true,
  dyloraRank: null,
};

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
  const known = new Set([...Object.keys(DEFAULT_CONFIG), "targetModules"]);
  for (const key of Object.keys(input)) {
    if (!known.has(key))
      throw new Error(`adapter config: unknown field "${key}" (fields: ${[...known].join(", ")})`);
  }
  const c = { ...DEFAULT_CONFIG, ...input } as AdapterConfig;
  const targets = c.targetModules;
  if (typeof targets !== "string") stringList("targetModules", targets);
  if (Array.isArray(targets) && targets.length === 0)
    throw new Error(`adapter config "targetModules": the list is empty`);
  const config: AdapterConfig = {
    ...c,
    method: oneOf("method", c.method, METHOD_NAMES),
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
    k: positiveInt("k", c.k),
    activation: oneOf("activation", c.activation, ["none", "tanh", "sigmoid"] as const),
    mixerInit: oneOf("mixerInit", c.mixerInit, ["kaiming", "orthogonal"] as const),
    dyloraRank: c.dyloraRank === null ? null : positiveInt("dyloraRank", c.dyloraRank),
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
  if (typeof config.dyloraFrozen !== "boolean")
    throw new Error(`adapter config "dyloraFrozen": expected true or false`);
  return config;
}
