import { type AdapterConfig, type AdapterConfigInput, resolveConfig } from "../config.js";
import type { AdapterMethod } from "../method.js";
import { allMethods, methodNamed } from "../methods/index.js";
import type { BaseKind } from "../view.js";

const moreloraType = (method: string): string => `MORELORA_${method.toUpperCase().replace(/-/g, "_")}`;

/** A config key as adapter_config.json spells it: mixerInit → mixer_init. */
const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * PEFT's own types for what it has and can load; morelora's for the rest: other methods, the
 * "better" init, layer kinds PEFT's tuner does not adapt (docs/adapter-format.md).
 */
export function peftTypeOf(config: AdapterConfig, kinds: readonly BaseKind[] = []): string {
  const peft = methodNamed(config.method).peft;
  const loadable =
    peft && config.init !== "better" && kinds.every((k) => !peft.layers || peft.layers.includes(k));
  return loadable ? peft.type : moreloraType(config.method);
}

/** The fields PEFT 0.20.0 writes for a LoraConfig, in its order, with their default values. */
function loraFields(c: AdapterConfig, peftType: string): Record<string, unknown> {
  return {
    alora_invocation_tokens: null,
    alpha_pattern: c.alphaPattern,
    arrow_config: null,
    auto_mapping: null,
    base_model_name_or_path: null,
    bias: c.bias,
    corda_config: null,
    ensure_weight_tying: false,
    eva_config: null,
    exclude_modules: null,
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: c.init === "gaussian" ? "gaussian" : c.init === "better" ? "better" : true,
    layer_replication: null,
    layers_pattern: c.layersPattern,
    layers_to_transform: c.layersToTransform,
    loftq_config: {},
    lora_alpha: c.alpha,
    lora_bias: false,
    lora_dropout: c.dropout,
    lora_ga_config: null,
    megatron_config: null,
    megatron_core: "megatron.core",
    modules_to_save: c.modulesToSave.length ? c.modulesToSave : null,
    monteclora_config: null,
    peft_type: peftType,
    peft_version: "0.20.0",
    qalora_group_size: 16,
    r: c.r,
    rank_pattern: c.rankPattern,
    revision: null,
    target_modules: c.targetModules,
    target_parameters: null,
    task_type: null,
    trainable_token_indices: null,
    use_bdlora: null,
    use_dora: false,
    use_qalora: false,
    use_rslora: c.useRslora,
    velora_config: null,
  };
}

/**
 * adapter_config.json for a config adapting layers of these kinds; fan_in_fan_out is true when
 * every one stores its weight [in, out] (Conv1D), which tells file merges the layout of square
 * weights; baseModel is base_model_name_or_path (the folder train used; export --adapter reads it),
 * taskType is task_type (the model's: CAUSAL_LM, SEQ_CLS, FEATURE_EXTRACTION).
 */
export function toPeftConfig(
  c: AdapterConfig,
  kinds: readonly BaseKind[] = [],
  { baseModel = null as string | null, taskType = null as string | null } = {},
): Record<string, unknown> {
  const method = methodNamed(c.method);
  const type = peftTypeOf(c, kinds);
  const fanInFanOut = kinds.length > 0 && kinds.every((k) => k === "conv1d");
  const peft = method.peft;
  const recorded = { base_model_name_or_path: baseModel, task_type: taskType };
  if (peft?.own && type === peft.type) return { ...peft.own.write(c), ...recorded };
  const fields = {
    ...loraFields(c, type),
    ...peft?.loraFields,
    fan_in_fan_out: fanInFanOut,
    ...recorded,
  };
  if (type === peft?.type) return fields;
  const options = (method.options ?? []).map((o) => [
    snakeCase(o.key),
    (c as unknown as Record<string, unknown>)[o.key],
  ]);
  return {
    ...fields,
    morelora: { method: c.method, init: c.init, seed: c.seed, ...Object.fromEntries(options) },
  };
}

/** PEFT initialisations that rewrite the base weights, which a reader of the adapter alone cannot undo. */
const RESIDUAL_INITS = ["pissa", "olora", "corda", "eva", "loftq"];

/** Reads adapter_config.json's object into a config; errors name the file and the key. */
export function fromPeftConfig(
  json: unknown,
  file: string,
): { config: AdapterConfig; fanInFanOut: boolean | null } {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new Error(`${file}: expected a JSON object`);
  const j = json as Record<string, unknown>;
  const type = j.peft_type;
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  if (j.target_modules === undefined || j.target_modules === null) fail(`"target_modules" is missing`);
  const common: AdapterConfigInput = {
    targetModules: j.target_modules as string[] | string,
    r: j.r as number,
    layersToTransform: (j.layers_to_transform ?? null) as number[] | null,
    layersPattern:
      typeof j.layers_pattern === "string"
        ? [j.layers_pattern]
        : ((j.layers_pattern ?? null) as string[] | null),
    modulesToSave: (j.modules_to_save ?? []) as string[],
    rankPattern: (j.rank_pattern ?? {}) as Record<string, number>,
    alphaPattern: (j.alpha_pattern ?? {}) as Record<string, number>,
  };
  if (typeof type !== "string") return unsupported(type, fail);
  const morelora = type.startsWith("MORELORA_");
  const method = morelora ? moreloraMethod(j.morelora, type, fail) : peftMethod(j, type, fail);
  const own = morelora ? undefined : method.peft?.own;
  let input: AdapterConfigInput = { ...common, method: method.name };
  if (own) input = { ...input, ...own.read(j) };
  else {
    const init = j.init_lora_weights;
    if (typeof init === "string" && RESIDUAL_INITS.some((r) => init.toLowerCase().startsWith(r))) {
      fail(
        `"init_lora_weights": "${init}" adapters apply to residual base weights written with them; morelora cannot load them`,
      );
    }
    for (const flag of ["lora_bias", "use_qalora", "use_bdlora"])
      if (j[flag]) fail(`"${flag}" is not supported`);
    if (j.layer_replication) fail(`"layer_replication" is not supported`);
    input = {
      ...input,
      alpha: (j.lora_alpha ?? 8) as number,
      dropout: (j.lora_dropout ?? 0) as number,
      useRslora: (j.use_rslora ?? false) as boolean,
      bias: (j.bias ?? "none") as AdapterConfig["bias"],
      init: init === "gaussian" ? "gaussian" : "default",
    };
    if (morelora) input = { ...input, ...moreloraFields(j.morelora as Record<string, unknown>, method) };
  }
  try {
    // Layouts of their own (PEFT's LoHa) have no fan_in_fan_out: they adapt nn.Linear, never GPT-2's Conv1D.
    const fan = own ? false : j.fan_in_fan_out;
    return { config: resolveConfig(input), fanInFanOut: typeof fan === "boolean" ? fan : null };
  } catch (e) {
    return fail((e as Error).message);
  }
}

function unsupported(type: unknown, fail: (m: string) => never): never {
  const types = [...new Set(allMethods().flatMap((m) => (m.peft ? [m.peft.type] : [])))];
  return fail(
    `unsupported "peft_type" ${JSON.stringify(type)} (supported: ${types.join(", ")}, MORELORA_<method>)`,
  );
}

/** The method PEFT's peft_type names (LORA: LoRA or DoRA by use_dora). */
function peftMethod(j: Record<string, unknown>, type: string, fail: (m: string) => never): AdapterMethod {
  const method = allMethods().find((m) => m.peft?.type === type && (m.peft.claims?.(j) ?? true));
  return method ?? unsupported(type, fail);
}

/** The method of a MORELORA_<METHOD> file, from its "morelora" object, which must agree with the type. */
function moreloraMethod(block: unknown, type: string, fail: (m: string) => never): AdapterMethod {
  if (typeof block !== "object" || block === null) return fail(`peft_type ${type} needs a "morelora" object`);
  const name = (block as Record<string, unknown>).method;
  if (moreloraType(String(name)) !== type)
    fail(`"morelora.method" ${JSON.stringify(name)} contradicts "peft_type" ${type}`);
  try {
    return methodNamed(name as string);
  } catch (e) {
    return fail((e as Error).message);
  }
}

/** The "morelora" object's fields: init, seed and the method's own options (snake_case), else their defaults. */
function moreloraFields(b: Record<string, unknown>, method: AdapterMethod): Partial<AdapterConfig> {
  const options = (method.options ?? []).map((o) => [o.key, b[snakeCase(o.key)] ?? o.default]);
  return {
    init: (b.init ?? "default") as AdapterConfig["init"],
    seed: (b.seed ?? 0) as number,
    ...Object.fromEntries(options),
  };
}
