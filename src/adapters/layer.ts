import { Conv1D, Embedding, Linear, Module } from "../nn/index.js";
import * as T from "../tensor/index.js";
import { Generator, noGrad, type Tensor } from "../tensor/index.js";
import type { ModuleAdapter } from "./adapter.js";
import { applyDelta } from "./delta.js";
import { type BaseKind, WeightView } from "./view.js";

export type AdaptableModule = Linear | Conv1D | Embedding;

/** The kind of a module adapters can wrap, or null. */
export function baseKind(m: Module): BaseKind | null {
  if (m instanceof Linear) return "linear";
  if (m instanceof Conv1D) return "conv1d";
  if (m instanceof Embedding) return "embedding";
  return null;
}

/** "lora_A.weight" → "lora_A.<adapter>.weight", PEFT's in-model parameter names. */
export function modelParamName(fileName: string, adapter: string): string {
  const dot = fileName.indexOf(".");
  return dot < 0 ? `${fileName}.${adapter}` : `${fileName.slice(0, dot)}.${adapter}${fileName.slice(dot)}`;
}

interface Entry {
  adapter: ModuleAdapter;
  dropout: number;
  rng: Generator;
}

/**
 * A Linear, Conv1D or Embedding with adapters by name (PEFT's LoraLayer): the base module is the
 * child "base_layer", adapter tensors are parameters named as in PEFT ("lora_A.default.weight").
 * At most one adapter is active; merged adapters live in the base weight until unmerged.
 */
export class AdapterLayer extends Module {
  readonly view: WeightView;
  private readonly entries = new Map<string, Entry>();
  private readonly mergedStack: { name: string; unmerge: (w: Tensor) => Tensor }[] = [];
  active: string | null = null;
  disabled = false;

  constructor(readonly base: AdaptableModule) {
    super();
    this.registerModule("base_layer", base);
    const kind = baseKind(base);
    if (!kind) throw new Error("AdapterLayer wraps Linear, Conv1D or Embedding modules only");
    this.view = new WeightView(kind, base.weight, base instanceof Embedding ? null : base.bias);
  }

  add(name: string, adapter: ModuleAdapter, dropout: number, seed: number): void {
    if (this.entries.has(name)) throw new Error(`adapter "${name}" already exists on this module`);
    this.entries.set(name, { adapter, dropout, rng: new Generator(seed) });
    for (const [file, t] of adapter.tensors) this.registerParameter(modelParamName(file, name), t);
  }

  remove(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    if (this.mergedStack.some((m) => m.name === name))
      throw new Error(`adapter "${name}" is merged; unmerge it first`);
    for (const file of entry.adapter.tensors.keys()) this.unregisterParameter(modelParamName(file, name));
    this.entries.delete(name);
    if (this.active === name) this.active = null;
  }

  adapter(name: string): ModuleAdapter | undefined {
    return this.entries.get(name)?.adapter;
  }

  /** The generator of an adapter's dropout masks (its state is saved in training checkpoints). */
  dropoutGenerator(name: string): Generator | undefined {
    return this.entries.get(name)?.rng;
  }

  get adapterNames(): string[] {
    return [...this.entries.keys()];
  }

  get mergedNames(): string[] {
    return this.mergedStack.map((m) => m.name);
  }

  protected override ownGenerators(): Generator[] {
    return [...this.entries.values()].map((e) => e.rng);
  }

  forward(x: Tensor): Tensor {
    const name = this.active;
    const entry = name === null ? undefined : this.entries.get(name);
    if (!entry || this.disabled || this.mergedNames.includes(name!)) return this.view.forward(x);
    const delta = entry.adapter.delta();
    const useDropout = entry.dropout > 0 && this.training && this.view.kind !== "embedding";
    const dropped = useDropout ? T.dropout(x, entry.dropout, entry.rng, true) : x;
    const own = entry.adapter.instance.forward;
    if (own) return own({ x, dropped, delta, view: this.view });
    if (dropped === x && delta.kind === "low-rank") return this.view.forward(x, { lowRank: delta });
    return T.add(this.view.forward(x), applyDelta(this.view, dropped, delta));
  }

  /** Folds an adapter into the base weight (exactly reversible with unmerge). */
  merge(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`no adapter "${name}" on this module`);
    if (this.mergedNames.includes(name)) return;
    const merged = entry.adapter.merge(this.view.dense());
    this.view.assign(merged.weight);
    this.mergedStack.push({ name, unmerge: merged.unmerge });
  }

  /** Takes every merged adapter out of the base weight, newest first. */
  unmerge(): void {
    for (let m = this.mergedStack.pop(); m; m = this.mergedStack.pop()) {
      const undo = m.unmerge;
      this.view.assign(noGrad(() => undo(this.view.dense())));
    }
  }
}
