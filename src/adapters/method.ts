import type { DType, Generator, Tensor } from "../tensor/index.js";
import type { AdapterConfig, AdapterConfigInput } from "./config.js";
import type { Delta } from "./delta.js";
import type { BaseKind, WeightView } from "./view.js";

/**
 * How a method's tensors start: its own init (`default`, ΔW = 0), PEFT's `gaussian`, or every
 * factor random (`nonzero`), which MoreLoRA's "better" init then compensates in the base.
 */
export type InitKind = "default" | "gaussian" | "nonzero";

/** What a method sees of the module it adapts. */
export interface MethodContext {
  view: WeightView;
  /** The module's path in the model, e.g. "model.layers.0.self_attn.q_proj". */
  path: string;
  /** The last name of the path (CondLoRA shares its maps per module type). */
  moduleType: string;
  r: number;
  alpha: number;
  /** alpha / r, or alpha / sqrt(r) with useRslora. */
  scale: number;
  config: AdapterConfig;
  rng: Generator;
  dtype: DType;
  /** A tensor shared by every module of this type (created by make on first use, then returned). */
  shared(name: string, make: () => Tensor): Tensor;
}

/** The result of folding an adapter into W0, with the exact way back. */
export interface Merged {
  weight: Tensor;
  unmerge(merged: Tensor): Tensor;
}

/** One adapter on one module, built from its tensors. */
export interface MethodInstance {
  /** ΔW in its cheapest form; differentiable in the method's tensors. */
  delta(): Delta;
  /** Methods that also rescale the base output (DoRA) compute the whole layer output. */
  forward?(args: { x: Tensor; dropped: Tensor; delta: Delta; view: WeightView }): Tensor;
  /** Methods whose merge is not W0 + ΔW (DoRA). w0 is [out, in]. */
  merge?(w0: Tensor, delta: Delta): Merged;
  /** DyLoRA: the rank in use and whether only its newest component learns. */
  setRank?(rank: number, frozen: boolean): void;
}

/**
 * One option a method reads from the adapter config, as plain data: the config key (camelCase;
 * snake_case in adapter_config.json's "morelora" block, kebab-case as a CLI flag), its type and
 * default, what values it takes, and a line of help. Checks across options go in validate.
 */
export interface MethodOption {
  key: string;
  type: "integer" | "number" | "boolean" | "string";
  default: string | number | boolean | null;
  /** The allowed values of a string option. */
  values?: readonly string[];
  /** The smallest allowed value of a number option. */
  min?: number;
  /** null is allowed (and means the default behaviour). */
  nullable?: boolean;
  help: string;
}

/** How a method PEFT also has maps to PEFT's adapter_config.json (docs/adapter-format.md). */
export interface PeftMapping {
  /** PEFT's peft_type ("LORA", "LOHA"); with init "better" the file is MORELORA_<METHOD> instead. */
  type: string;
  /** Whether a file of that peft_type holds this method (LORA files: use_dora tells DoRA from LoRA). */
  claims?(json: Record<string, unknown>): boolean;
  /** Fields it sets in LoRA's layout, which every other method's file also uses (DoRA's use_dora). */
  loraFields?: Record<string, unknown>;
  /**
   * The layer kinds PEFT's tuner adapts, when not every kind this method does (PEFT's LoHa takes
   * nn.Linear, not GPT-2's Conv1D); an adapter on another kind is written as MORELORA_<METHOD>.
   */
  layers?: readonly BaseKind[];
  /** A layout of its own instead of LoRA's (LoHa): the fields written, and what is read back. */
  own?: {
    write(c: AdapterConfig): Record<string, unknown>;
    read(json: Record<string, unknown>): Partial<AdapterConfigInput>;
  };
}

/** What a method's training hooks may do to the adapter being trained. */
export interface TrainingAdapter {
  readonly config: AdapterConfig;
  /** Sets the rank every module uses for now (methods with setRank); frozen: only the newest component learns. */
  applyRank(rank: number, frozen: boolean): void;
  /** Sets the rank used from now on, also outside training (saved in the config's rankOption). */
  setRank(rank: number): void;
}

/** Hooks the trainer runs through the training target (docs/architecture.md). */
export interface TrainingHooks {
  /** Before each optimizer step (DyLoRA draws the step's rank). */
  beginStep?(adapter: TrainingAdapter, rng: Generator): void;
  /** When training ends (DyLoRA returns to its full rank). */
  end?(adapter: TrainingAdapter): void;
}

/** A module's kind and [out, in] as read from its adapter tensors alone (inspect has no base model). */
export interface ModuleShape {
  kind: BaseKind;
  m: number;
  n: number;
}

/**
 * A LoRA-family method: one file in methods/ and one entry in methods/index.ts. The method owns
 * everything about itself (docs/adding-a-method.md): its options, tensor names, PEFT mapping and
 * training hooks; generic code asks it and never compares method names.
 */
export interface AdapterMethod {
  /** Its config name ("dora"). */
  name: string;
  /** The base layers it can adapt. */
  layers: readonly BaseKind[];
  /** Options only it reads, with their defaults (also config-file keys and CLI flags). */
  options?: readonly MethodOption[];
  /** The names of its own per-module tensors in an adapter file, after the module path (PEFT's adapter_layer_names). */
  tensorNames?: RegExp;
  /** Its tensors that take no weight decay (DoRA's magnitudes). */
  noWeightDecay?: RegExp;
  /** The path part of tensors shared across modules (CondLoRA's maps: "condlora.<type>.<name>"). */
  sharedPrefix?: string;
  /** Its PEFT type, when PEFT has the method; else files say MORELORA_<METHOD>. */
  peft?: PeftMapping;
  /** The option holding the rank used outside training, for methods whose rank varies (DyLoRA). */
  rankOption?: string;
  training?: TrainingHooks;
  /** Rejects a config or module the method cannot take, with a clear message. */
  validate?(ctx: MethodContext): void;
  /** The module's own tensors at creation, by their name in the adapter file ("lora_A.weight"). */
  init(ctx: MethodContext, kind: InitKind): Map<string, Tensor>;
  /** Builds the adapter over tensors (freshly initialised or loaded). */
  instance(ctx: MethodContext, tensors: ReadonlyMap<string, Tensor>): MethodInstance;
  /** The adapted module's kind and shape from its own tensors; absent for methods with none (CondLoRA). */
  moduleShape?(tensors: ReadonlyMap<string, Tensor>): ModuleShape | null;
  /** The trainable parameter count of one module by the spec's formula (shared maps excluded). */
  parameterCount(m: number, n: number, r: number, config: AdapterConfig): number;
  /** Trainable parameters shared per module type (CondLoRA's maps), by the spec's formula. */
  sharedParameterCount?(m: number, n: number, r: number): number;
}
