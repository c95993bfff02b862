import { type AdapterConfig, type AdapterConfigInput, type MethodName, resolveConfig } from "./config.js";

/** PEFT's own types for what it has; morelora's for the rest (peft-format.md, docs/adapter-format.md). */
export function peftTypeOf(config: AdapterConfig): string {
  if (config.init !== "better") {
    if (config.method === "lora" || config.method === "dora") return "LORA";
    if (config.method === "loha") return "LOHA";
  }
  return `MORELORA_${config.method.toUpperCase().replace("-", "_")}`;
}

/** The fields PEFT 0.20.0 writes for a LoraConfig, in its order, with their default values. */
function loraFields(c: AdapterConfig): Record<string, unknown> {
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
    peft_type: peftTypeOf(c),
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
    use_dora: c.method === "dora",
    use_qalora: false,
    use_rslora: c.useRslora,
    velora_config: null,
  };
}

/** The fields PEFT 0.20.0 writes for a LoHaConfig. */
function lohaFields(c: AdapterConfig): Record<string, unknown> {
  return {
    alpha: c.alpha,
    alpha_pattern: c.alphaPattern,
    auto_mapping: null,
    base_model_name_or_path: null,
    exclude_modules: null,
    inference_mode: true,
    init_weights: true,
    layers_pattern: c.layersPattern,
    layers_to_transform: c.layersToTransform,
    module_dropout: 0,
    modules_to_save: c.modulesToSave.length ? c.modulesToSave : null,
    peft_type: "LOHA",
    peft_version: "0.20.0",
    r: c.r,
    rank_dropout: 0,
    rank_pattern: c.rankPattern,
    revision: null,
    target_modules: c.targetModules,
    task_type: null,
    use_effective_conv2d: false,
  };
}

/** adapter_config.json for a config; fanInFanOut when every adapted module stores its weight [in, out]. */
export function toPeftConfig(
  c: AdapterConfig,
  { fanInFanOut = false, baseModel = null as string | null } = {},
): Record<string, unknown> {
  const type = peftTypeOf(c);
  if (type === "LOHA") return { ...lohaFields(c), base_model_name_or_path: baseModel };
  const fields = { ...loraFields(c), fan_in_fan_out: fanInFanOut, base_model_name_or_path: baseModel };
  if (type === "LORA") return fields;
  return {
    ...fields,
    morelora: {
      method: c.method,
      init: c.init,
      seed: c.seed,
      k: c.k,
      activation: c.activation,
      mixer_init: c.mixerInit,
      dylora_frozen: c.dyloraFrozen,
      dylora_rank: c.dyloraRank,
    },
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
  let input: AdapterConfigInput;
  if (type === "LOHA") {
    input = { ...common, method: "loha", alpha: (j.alpha ?? 8) as number };
  } else if (type === "LORA" || (typeof type === "string" && type.startsWith("MORELORA_"))) {
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
      ...common,
      method: j.use_dora ? "dora" : "lora",
      alpha: (j.lora_alpha ?? 8) as number,
      dropout: (j.lora_dropout ?? 0) as number,
      useRslora: (j.use_rslora ?? false) as boolean,
      bias: (j.bias ?? "none") as AdapterConfig["bias"],
      init: init === "gaussian" ? "gaussian" : "default",
    };
    if (type !== "LORA") input = { ...input, ...moreloraFields(j.morelora, type as string, fail) };
  } else {
    return fail(`unsupported "peft_type" ${JSON.stringify(type)} (supported: LORA, LOHA, MORELORA_<method>)`);
  }
  try {
    // LoHa has no fan_in_fan_out: PEFT's LoHa adapts nn.Linear (and convolutions), never GPT-2's Conv1D.
    const fan = type === "LOHA" ? false : j.fan_in_fan_out;
    return { config: resolveConfig(input), fanInFanOut: typeof fan === "boolean" ? fan : null };
  } catch (e) {
    return fail((e as Error).message);
  }
}

function moreloraFields(block: unknown, type: string, fail: (m: string) => never): Partial<AdapterConfig> {
  if (typeof block !== "object" || block === null) return fail(`peft_type ${type} needs a "morelora" object`);
  const b = block as Record<string, unknown>;
  const method = b.method as MethodName;
  if (`MORELORA_${String(method).toUpperCase().replace("-", "_")}` !== type) {
    fail(`"morelora.method" ${JSON.stringify(method)} contradicts "peft_type" ${type}`);
  }
  return {
    method,
    init: (b.init ?? "default") as AdapterConfig["init"],
    seed: (b.seed ?? 0) as number,
    k: (b.k ?? 2) as number,
    activation: (b.activation ?? "none") as AdapterConfig["activation"],
    mixerInit: (b.mixer_init ?? "kaiming") as AdapterConfig["mixerInit"],
    dyloraFrozen: (b.dylora_frozen ?? true) as boolean,
    dyloraRank: (b.dylora_rank ?? null) as number | null,
  };
}
