import { joinPath } from "../io/index.js";
import type { Module } from "../nn/index.js";
import { Generator, type Tensor } from "../tensor/index.js";
import { ModuleAdapter } from "./adapter.js";
import { type AdapterConfig, type AdapterConfigInput, resolveConfig } from "./config.js";
import { makeContext, type SharedTensors, sharedTensorPath } from "./context.js";
import { assignAdapterTensors, readAdapterFolder, writeAdapterFolder } from "./peft/folder.js";
import { INIT_PART, PREFIX } from "./peft/names.js";
import { findTargets, replaceAt, wrapModule } from "./inject.js";
import { AdapterLayer } from "./layer.js";
import type { TrainingAdapter } from "./method.js";
import { methodNamed } from "./methods/index.js";
import { combineLoraAdapters } from "./methods/lora-combine.js";
import { matchesSavedModule, ModulesToSaveLayer, SEQ_CLS_HEAD_NAMES } from "./saved-modules.js";

export interface TrainableSummary {
  trainable: number;
  total: number;
  /** Trainable values per module path (shared maps under "<sharedPrefix>.<type>", e.g. "condlora.q_proj"). */
  perModule: Map<string, number>;
}

/**
 * A model with LoRA-family adapters (PEFT's PeftModel): wraps the targeted modules of any model
 * built from nn modules, in place, and manages adapters by name. Base weights are frozen; only
 * the active adapter, its modules_to_save copies and the biases its config names are trained.
 */
export class PeftModel<M extends Module = Module> {
  private readonly configs = new Map<string, AdapterConfig>();
  private readonly shared = new Map<string, SharedTensors>();
  private readonly initShared = new Map<string, SharedTensors>();
  private active: string | null = null;
  private unloaded = false;
  /** Written to adapter_config.json's base_model_name_or_path (train records the model folder as given). */
  baseModelNameOrPath: string | null = null;
  /** Written to adapter_config.json's task_type (CAUSAL_LM, SEQ_CLS, FEATURE_EXTRACTION; train records the model's). */
  taskType: string | null = null;

  constructor(readonly model: M) {
    model.requiresGrad(false);
  }

  /** Runs the wrapped model's forward. */
  forward(...args: unknown[]): Tensor {
    this.live();
    return (this.model as unknown as { forward(...a: unknown[]): Tensor }).forward(...args);
  }

  get activeAdapter(): string | null {
    return this.active;
  }

  get adapterNames(): string[] {
    return [...this.configs.keys()];
  }

  config(name = this.requireActive()): AdapterConfig {
    const c = this.configs.get(name);
    if (!c) throw new Error(`no adapter "${name}" (adapters: ${this.adapterNames.join(", ") || "none"})`);
    return c;
  }

  /** Adds an adapter; the first one added becomes active. */
  addAdapter(name: string, input: AdapterConfigInput): this {
    this.live();
    if (this.configs.has(name)) throw new Error(`adapter "${name}" already exists`);
    const config = resolveConfig(input);
    const method = methodNamed(config.method);
    const paths = findTargets(this.model, config);
    const shared: SharedTensors = new Map();
    const initShared = config.init === "better" ? new Map<string, Tensor>() : null;
    const rng = new Generator(config.seed);
    const initKind = config.init === "better" ? "nonzero" : config.init;
    // Build every module's adapter before wrapping any, so a rejected config leaves the model as it was.
    const built = paths.map((path) => {
      const existing = this.model.getSubmodule(path);
      const layer = existing instanceof AdapterLayer ? existing : new AdapterLayer(existing as never);
      const ctx = makeContext({
        view: layer.view,
        path,
        config,
        shared,
        rng,
        dtype: layer.view.weight.dtype,
      });
      if (!method.layers.includes(layer.view.kind)) {
        throw new Error(
          `${config.method} cannot adapt ${path} (a ${layer.view.kind}); it adapts ${method.layers.join(", ")}`,
        );
      }
      method.validate?.(ctx);
      return { path, adapter: new ModuleAdapter(method, ctx, method.init(ctx, initKind), initShared) };
    });
    built.forEach(({ path, adapter }, i) =>
      wrapModule(this.model, path).add(name, adapter, config.dropout, config.seed + i + 1),
    );
    for (const t of shared.values()) t.requireGrad();
    // As PEFT: "all-linear" is kept as the names it resolved to (each module's last path part).
    const resolved = [...new Set(paths.map((p) => p.slice(p.lastIndexOf(".") + 1)))];
    this.configs.set(
      name,
      config.targetModules === "all-linear" ? { ...config, targetModules: resolved } : config,
    );
    this.shared.set(name, shared);
    if (initShared) this.initShared.set(name, initShared);
    for (const path of this.savedModulePaths(config)) {
      const current = this.model.getSubmodule(path);
      const wrapper = current instanceof ModulesToSaveLayer ? current : new ModulesToSaveLayer(current);
      if (wrapper !== current) replaceAt(this.model, path, wrapper);
      wrapper.add(name);
    }
    this.setAdapter(this.active ?? name);
    return this;
  }

  private savedModulePaths(config: AdapterConfig): string[] {
    const paths = this.model
      .namedModules()
      .map(([p]) => p)
      .filter((p) => p && !p.includes(".modules_to_save.") && !p.endsWith(".original_module"));
    for (const name of config.modulesToSave) {
      if (!SEQ_CLS_HEAD_NAMES.includes(name) && !paths.some((p) => matchesSavedModule(p, [name])))
        throw new Error(`modulesToSave: no module path ends with "${name}"`);
    }
    const hits = paths.filter((p) => matchesSavedModule(p, config.modulesToSave));
    // A match inside another match is already saved whole with it.
    return hits.filter((p) => !hits.some((q) => p.startsWith(`${q}.`)));
  }

  /** Adapter layers by path. */
  layers(): [string, AdapterLayer][] {
    return this.model.namedModules().filter((e): e is [string, AdapterLayer] => e[1] instanceof AdapterLayer);
  }

  private savedLayers(): [string, ModulesToSaveLayer][] {
    return this.model
      .namedModules()
      .filter((e): e is [string, ModulesToSaveLayer] => e[1] instanceof ModulesToSaveLayer);
  }

  /** Shared tensors of an adapter (CondLoRA's maps) by "<module type>.<name>"; with init, the frozen "better" copies. */
  sharedTensors(name: string, init = false): SharedTensors {
    return (init ? this.initShared : this.shared).get(name) ?? new Map();
  }

  /** Makes an adapter the active one: it alone is used and trained. */
  setAdapter(name: string): void {
    const config = this.config(name);
    this.active = name;
    this.model.requiresGrad(false);
    for (const [, layer] of this.layers()) {
      layer.active = name;
      for (const other of layer.adapterNames) {
        for (const t of layer.adapter(other)!.tensors.values()) t.requiresGrad = other === name;
      }
      if (config.bias === "lora_only" && layer.adapter(name) && layer.view.bias)
        layer.view.bias.requiresGrad = true;
    }
    for (const [other, shared] of this.shared)
      for (const t of shared.values()) t.requiresGrad = other === name;
    for (const [, saved] of this.savedLayers()) {
      saved.active = name;
      saved.copy(name)?.requiresGrad(true);
    }
    if (config.bias === "all") {
      for (const [path, t] of this.model.namedParameters())
        if (path.endsWith(".bias") || path === "bias") t.requiresGrad = true;
    }
  }

  /** Runs fn with every adapter off (the base model), then turns them back on. */
  disableAdapter<R>(fn: () => R): R {
    const switchables = [...this.layers(), ...this.savedLayers()].map(([, l]) => l);
    for (const l of switchables) l.disabled = true;
    try {
      return fn();
    } finally {
      for (const l of switchables) l.disabled = false;
    }
  }

  deleteAdapter(name: string): void {
    this.config(name);
    for (const [path, layer] of this.layers()) {
      layer.remove(name);
      if (layer.adapterNames.length === 0) replaceAt(this.model, path, layer.base);
    }
    for (const [path, saved] of this.savedLayers()) {
      saved.remove(name);
      if (saved.names.size === 0) replaceAt(this.model, path, saved.original);
    }
    this.configs.delete(name);
    this.shared.delete(name);
    this.initShared.delete(name);
    if (this.active === name) {
      this.active = null;
      const next = this.adapterNames[0];
      if (next) this.setAdapter(next);
    }
  }

  /** Trainable tensors by name: adapter parameters in PEFT's naming, shared maps as "<sharedPrefix>.<type>.<name>". */
  trainableParameters(): [string, Tensor][] {
    const own = this.model.namedParameters().filter(([, t]) => t.requiresGrad);
    const shared = this.active === null ? new Map<string, Tensor>() : this.sharedTensors(this.active);
    const method = this.active === null ? null : methodNamed(this.config().method);
    const named = [...shared].map(([k, t]): [string, Tensor] => [sharedTensorPath(method!, k), t]);
    return [...own, ...named];
  }

  trainableSummary(): TrainableSummary {
    const perModule = new Map<string, number>();
    let trainable = 0;
    for (const [name, t] of this.trainableParameters()) {
      trainable += t.size;
      const module = name.replace(/\.[^.]+\.[^.]+$/, "");
      perModule.set(module, (perModule.get(module) ?? 0) + t.size);
    }
    const sharedTotal = [...this.shared.values()]
      .flatMap((m) => [...m.values()])
      .reduce((n, t) => n + t.size, 0);
    const total = this.model.parameters().reduce((n, t) => n + t.size, 0) + sharedTotal;
    return { trainable, total, perModule };
  }

  /** PEFT's line: "trainable params: 1,024 || all params: 9,216 || trainable%: 11.1111". */
  printTrainableParameters(print: (line: string) => void = console.log): string {
    const { trainable, total } = this.trainableSummary();
    const fmt = (n: number): string => n.toLocaleString("en-US");
    const line = `trainable params: ${fmt(trainable)} || all params: ${fmt(total)} || trainable%: ${((100 * trainable) / total).toFixed(4)}`;
    print(line);
    return line;
  }

  /** Whether a trainable parameter is one its method exempts from weight decay (DoRA's magnitudes). */
  noWeightDecay(name: string): boolean {
    return this.active !== null && Boolean(methodNamed(this.config().method).noWeightDecay?.test(name));
  }

  /** Whether the active adapter's rank can change (DyLoRA): setRank then applies. */
  rankVaries(): boolean {
    return Boolean(methodNamed(this.config().method).rankOption);
  }

  /** Methods whose rank varies (DyLoRA): the rank every module uses from now on (eval, merge, save), all components learning. */
  setRank(rank: number): void {
    const name = this.requireActive();
    const config = this.config(name);
    const option = methodNamed(config.method).rankOption;
    if (!option) throw new Error(`setRank: a ${config.method} adapter has a fixed rank`);
    this.applyRank(rank, false);
    // An explicitly set rank is the one saved and merged; sampled ranks are training state.
    this.configs.set(name, { ...config, [option]: rank });
  }

  private applyRank(rank: number, frozen: boolean): void {
    const name = this.requireActive();
    for (const [, layer] of this.layers()) layer.adapter(name)?.setRank(rank, frozen);
  }

  /** The active adapter as its method's training hooks see it. */
  private trainingAdapter(): TrainingAdapter {
    return {
      config: this.config(),
      applyRank: (rank, frozen) => this.applyRank(rank, frozen),
      setRank: (rank) => this.setRank(rank),
    };
  }

  /** Before an optimizer step: the method's own hook (DyLoRA draws one rank in 1..r for all modules). */
  beginTrainingStep(rng: Generator): void {
    methodNamed(this.config().method).training?.beginStep?.(this.trainingAdapter(), rng);
  }

  /** After training: the method's own hook (DyLoRA returns to its full rank, the one saved and evaluated). */
  endTraining(): void {
    methodNamed(this.config().method).training?.end?.(this.trainingAdapter());
  }

  /** Folds adapters (the active one by default) into the base weights, as PEFT's merge(adapter_names); unmerge undoes it exactly. */
  merge(adapterNames: string[] = [this.requireActive()]): void {
    for (const name of adapterNames) this.config(name);
    for (const name of adapterNames)
      for (const [, layer] of this.layers()) if (layer.adapter(name)) layer.merge(name);
  }

  /** Takes every merged adapter out of the base weights. */
  unmerge(): void {
    for (const [, layer] of this.layers()) layer.unmerge();
  }

  /** Merges the active adapter and returns the plain model (wrappers removed); this PeftModel is then spent. */
  mergeAndUnload(): M {
    const name = this.requireActive();
    this.merge();
    for (const [path, layer] of this.layers()) replaceAt(this.model, path, layer.base);
    for (const [path, saved] of this.savedLayers())
      replaceAt(this.model, path, saved.copy(name) ?? saved.original);
    this.model.requiresGrad(false);
    this.unloaded = true;
    return this.model;
  }

  /** A new LoRA adapter from LoRA adapters, as PEFT's add_weighted_adapter (docs/methods.md). */
  combineAdapters(names: string[], weights: number[], type: "linear" | "cat", newName: string): void {
    combineLoraAdapters(this, names, weights, type, newName);
  }

  /**
   * An adapter's tensors under their names in the adapter file (docs/adapter-format.md); the same
   * map drives saving and loading, so what is written is exactly what is read back.
   */
  adapterTensors(name = this.requireActive()): Map<string, Tensor> {
    const config = this.config(name);
    const method = methodNamed(config.method);
    const out = new Map<string, Tensor>();
    for (const [path, layer] of this.layers()) {
      const adapter = layer.adapter(name);
      if (!adapter) continue;
      for (const [file, t] of adapter.tensors) out.set(`${PREFIX}${path}.${file}`, t);
      for (const [file, t] of adapter.initTensors ?? []) out.set(`${PREFIX}${path}.${INIT_PART}.${file}`, t);
      if (config.bias === "lora_only" && layer.view.bias)
        out.set(`${PREFIX}${path}.base_layer.bias`, layer.view.bias);
    }
    for (const [key, t] of this.sharedTensors(name)) out.set(`${PREFIX}${sharedTensorPath(method, key)}`, t);
    for (const [key, t] of this.sharedTensors(name, true))
      out.set(`${PREFIX}${sharedTensorPath(method, `${INIT_PART}.${key}`)}`, t);
    for (const [path, saved] of this.savedLayers()) {
      const copy = saved.copy(name);
      if (copy) for (const [p, t] of copy.namedParameters()) out.set(`${PREFIX}${path}.${p}`, t);
    }
    if (config.bias === "all") {
      for (const [p, t] of this.model.namedParameters()) {
        if (/(^|\.)bias$/.test(p) && !p.includes(".original_module.") && !p.includes(".modules_to_save.")) {
          out.set(`${PREFIX}${p}`, t);
        }
      }
    }
    return out;
  }

  /**
   * Writes adapters (every one by default) as PEFT-format folders, as PEFT's save_pretrained:
   * "default" in dir itself, any other adapter in dir/<name>.
   */
  save(dir: string, adapterNames: string[] = this.adapterNames): void {
    for (const name of adapterNames) this.config(name);
    for (const name of adapterNames) {
      const kinds = this.layers()
        .filter(([, l]) => l.adapter(name))
        .map(([, l]) => l.view.kind);
      writeAdapterFolder(
        name === "default" ? dir : joinPath(dir, name),
        this.config(name),
        this.adapterTensors(name),
        kinds,
        {
          baseModel: this.baseModelNameOrPath,
          taskType: this.taskType,
        },
      );
    }
  }

  /** Adds the adapter saved in dir under name (loading validates every tensor name and shape). */
  loadAdapter(dir: string, name = "default"): this {
    const folder = readAdapterFolder(dir);
    this.addAdapter(name, folder.config);
    try {
      assignAdapterTensors(this.adapterTensors(name), folder);
    } catch (e) {
      this.deleteAdapter(name);
      throw e;
    }
    return this;
  }

  /** Overwrites an existing adapter's values with those saved in dir (same config), e.g. to resume training. */
  loadWeights(dir: string, name = this.requireActive()): void {
    assignAdapterTensors(this.adapterTensors(name), readAdapterFolder(dir));
  }

  /**
   * A model with the adapter saved in dir, as PEFT's PeftModel.from_pretrained: in eval mode, as
   * that leaves it for inference (dropout off until training sets train mode).
   */
  static load<M extends Module>(model: M, dir: string, name = "default"): PeftModel<M> {
    const peft = new PeftModel(model).loadAdapter(dir, name);
    peft.model.eval();
    return peft;
  }

  private requireActive(): string {
    if (this.active === null) throw new Error("no active adapter");
    return this.active;
  }

  private live(): void {
    if (this.unloaded)
      throw new Error("this PeftModel was merged and unloaded; use the model mergeAndUnload returned");
  }
}

/** Wraps a model's targeted modules with an adapter named "default" (or name). */
export function getPeftModel<M extends Module>(
  model: M,
  config: AdapterConfigInput,
  name = "default",
): PeftModel<M> {
  return new PeftModel(model).addAdapter(name, config);
}
