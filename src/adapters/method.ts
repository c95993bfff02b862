import type { DType, Generator, Tensor } from "../tensor/index.js";
import type { AdapterConfig, MethodName } from "./config.js";
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

/** A LoRA-family method: one file in methods/, one entry in methods/index.ts. */
export interface AdapterMethod {
  name: MethodName;
  /** The base layers it can adapt. */
  layers: readonly BaseKind[];
  /** Rejects a config or module the method cannot take, with a clear message. */
  validate?(ctx: MethodContext): void;
  /** The module's own tensors at creation, by their name in the adapter file ("lora_A.weight"). */
  init(ctx: MethodContext, kind: InitKind): Map<string, Tensor>;
  /** Builds the adapter over tensors (freshly initialised or loaded). */
  instance(ctx: MethodContext, tensors: ReadonlyMap<string, Tensor>): MethodInstance;
  /** The trainable parameter count of one module by the spec's formula (shared maps excluded). */
  parameterCount(m: number, n: number, r: number, config: AdapterConfig): number;
  /** Trainable parameters shared per module type (CondLoRA's maps), by the spec's formula. */
  sharedParameterCount?(m: number, n: number, r: number): number;
}
