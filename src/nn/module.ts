import {
  allocate,
  type DType,
  formatShape,
  type Generator,
  type Tensor,
  Tensor as TensorClass,
} from "../tensor/index.js";

export type StateDict = ReadonlyMap<string, Tensor>;

/** A module whose forward maps one tensor to one tensor: Linear, a norm, an embedding, an MLP. */
export interface Layer extends Module {
  forward(x: Tensor): Tensor;
}

/** A module's children by name and type. */
export type Children = Record<string, Module>;

/**
 * A node of a model: parameters, buffers and child modules by name, so that every tensor has the
 * HF-style dotted path ("model.layers.0.self_attn.q_proj.weight") state dicts and PEFT files use.
 * A model declares its children's types (C), as nanoGPT declares its fields, so that `child`
 * returns them typed; adapters swap a child for a wrapper with the same forward.
 */
export class Module<C extends Children = Children> {
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** Registers a parameter (null for an absent optional one, e.g. no bias); it requires grad. */
  protected registerParameter(name: string, t: Tensor | null): void {
    if (t) t.requireGrad();
    this.params.set(name, t);
  }

  /** Removes a parameter (adapters are deleted this way). */
  protected unregisterParameter(name: string): void {
    this.params.delete(name);
  }

  /** Registers state that is saved and loaded but not trained. */
  protected registerBuffer(name: string, t: Tensor): void {
    this.buffers.set(name, t);
  }

  protected registerModule<K extends keyof C & string>(name: K, m: C[K]): C[K] {
    this.children.set(name, m);
    return m;
  }

  /** A parameter of this module by its local name. */
  param(name: string): Tensor | null {
    if (!this.params.has(name)) throw new Error(`${this.constructor.name} has no parameter "${name}"`);
    return this.params.get(name) ?? null;
  }

  buffer(name: string): Tensor {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`${this.constructor.name} has no buffer "${name}"`);
    return b;
  }

  /** Puts a new tensor in place of a parameter, keeping its requires-grad setting. */
  setParam(name: string, t: Tensor): void {
    const old = this.param(name);
    t.requiresGrad = old ? old.requiresGrad : true;
    this.params.set(name, t);
  }

  namedChildren(): [string, Module][] {
    return [...this.children.entries()];
  }

  child<K extends keyof C & string>(name: K): C[K] {
    const c = this.children.get(name);
    if (!c) throw new Error(`${this.constructor.name} has no submodule "${name}"`);
    return c as C[K];
  }

  /** Removes a direct child. */
  protected removeChild(name: string): void {
    this.children.delete(name);
  }

  /** Replaces a direct child (adapters swap wrapped layers in this way). */
  replaceChild(name: string, m: Module): void {
    const old = this.children.get(name);
    if (!old) throw new Error(`${this.constructor.name} has no submodule "${name}"`);
    // The newcomer takes the mode of the module it replaces, so a model keeps one mode (dropout).
    this.children.set(name, m.train(old.training));
  }

  /** This module ("") and all below it, with their dotted paths. */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, c] of this.children) out.push(...c.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** The module at a dotted path. */
  getSubmodule(path: string): Module {
    if (path === "") return this;
    return path.split(".").reduce<Module>((m, part) => {
      const next = m.children.get(part);
      if (!next) throw new Error(`no submodule "${path}" (stopped at "${part}")`);
      return next;
    }, this);
  }

  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, t] of m.params) if (t) out.push([path ? `${path}.${name}` : name, t]);
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of m.buffers) out.push([path ? `${path}.${name}` : name, t]);
    }
    return out;
  }

  /** The generators this module itself draws from while running (dropout); none by default. */
  protected ownGenerators(): Generator[] {
    return [];
  }

  /** Every generator drawn from when this module and those below it run, so a recompute can replay them. */
  generators(): Generator[] {
    return this.namedModules().flatMap(([, m]) => m.ownGenerators());
  }

  /** Sets training mode here and below (dropout acts only in training). */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Freezes or unfreezes every parameter. */
  requiresGrad(flag: boolean): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Parameters and buffers by dotted name. */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values in by name, converting dtype. Strict (the default) requires exactly the
   * model's names; every problem is listed in one error. Returns the names not found each way.
   */
  loadStateDict(
    state: StateDict | Record<string, Tensor>,
    { strict = true }: { strict?: boolean } = {},
  ): { missing: string[]; unexpected: string[] } {
    const incoming = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !incoming.has(k));
    const unexpected = [...incoming.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    for (const [name, t] of incoming) {
      const target = own.get(name);
      if (target && !sameShape(target.shape, t.shape)) {
        problems.push(
          `${name}: shape ${formatShape(t.shape)} where the model has ${formatShape(target.shape)}`,
        );
      }
    }
    if (strict) {
      if (missing.length) problems.push(`missing: ${missing.join(", ")}`);
      if (unexpected.length) problems.push(`unexpected: ${unexpected.join(", ")}`);
    }
    if (problems.length) throw new Error(`loadStateDict: ${problems.join("; ")}`);
    for (const [name, t] of incoming) {
      const target = own.get(name);
      if (target?.half)
        throw new Error(`loadStateDict: ${name} is kept in ${target.half}; widenHalves() first`);
      target?.data.set(t.data);
    }
    return { missing, unexpected };
  }

  /**
   * A deep copy: the same class and settings, with copies of every parameter and buffer
   * (modules trained in full next to an adapter start as such a copy of the original).
   */
  clone(): this {
    const copy = Object.assign(Object.create(Object.getPrototypeOf(this) as object) as this, this);
    const own = copy as unknown as Record<"params" | "buffers" | "children", unknown>;
    own.params = new Map(
      [...this.params].map(([k, t]) => [k, t ? t.clone().requireGrad(t.requiresGrad) : null]),
    );
    own.buffers = new Map([...this.buffers].map(([k, t]) => [k, t.clone()]));
    own.children = new Map([...this.children].map(([k, c]) => [k, c.clone()]));
    return copy;
  }

  /**
   * Puts each tensor of the map in place of its key wherever a module holds it as a parameter
   * (tied weights stay tied); half tensors come in frozen.
   */
  replaceTensors(map: ReadonlyMap<Tensor, Tensor>): this {
    if (map.size === 0) return this;
    for (const [, m] of this.namedModules())
      for (const [name, t] of m.params) {
        const next = t && map.get(t);
        if (!next) continue;
        m.setParam(name, next);
        if (next.half) next.requiresGrad = false;
      }
    return this;
  }

  /** Puts float32 copies in place of the weights kept in half precision (before they train). */
  widenHalves(): this {
    const wide = new Map<Tensor, Tensor>();
    for (const [, t] of this.namedParameters()) if (t.half && !wide.has(t)) wide.set(t, t.to("float32"));
    return this.replaceTensors(wide);
  }

  /** Converts every parameter and float buffer to another float dtype (new storage). */
  toDType(dtype: DType): this {
    // A tensor shared by two modules (tied embeddings) stays shared after conversion.
    const converted = new Map<Tensor, Tensor>();
    const once = (t: Tensor): Tensor => {
      let c = converted.get(t);
      if (!c) converted.set(t, (c = convert(t, dtype)));
      return c;
    };
    for (const [, m] of this.namedModules()) {
      for (const [name, t] of m.params) if (t) m.setParam(name, once(t));
      for (const [name, t] of m.buffers) if (t.isFloat) m.buffers.set(name, once(t));
    }
    return this;
  }
}

function convert(t: Tensor, dtype: DType): Tensor {
  if (t.half) return t.to(dtype);
  const data = allocate(dtype, t.size);
  data.set(t.data);
  return new TensorClass(data, t.shape);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** An indexable list of modules, named "0", "1", ... as in PyTorch. */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: readonly M[] = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(m: M): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    // Read through the registry so a replaced child is seen.
    return this.child(String(i < 0 ? i + this.items.length : i)) as M;
  }

  [Symbol.iterator](): Iterator<M> {
    return Array.from({ length: this.items.length }, (_, i) => this.at(i))[Symbol.iterator]();
  }
}
