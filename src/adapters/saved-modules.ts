import { Module } from "../nn/index.js";

class Copies extends Module {
  set(name: string, m: Module): void {
    this.registerModule(name, m);
  }

  delete(name: string): void {
    this.removeChild(name);
  }
}

/** The heads PEFT adds to modules_to_save for a SEQ_CLS task; a model has one of them or neither. */
export const SEQ_CLS_HEAD_NAMES = ["classifier", "score"];

/** PEFT's modules_to_save rule: a module path matches a name it ends with, with no dot boundary. */
export const matchesSavedModule = (path: string, names: readonly string[]): boolean =>
  names.some((name) => path.endsWith(name));

type Callable = Module & { forward(...args: unknown[]): unknown };

/**
 * A module trained in full beside an adapter (PEFT's modules_to_save): the original stays as
 * "original_module", each adapter trains its own copy under "modules_to_save.<adapter>".
 */
export class ModulesToSaveLayer extends Module {
  readonly copies = new Copies();
  readonly names = new Set<string>();
  active: string | null = null;
  disabled = false;

  constructor(readonly original: Module) {
    super();
    this.registerModule("original_module", original);
    this.registerModule("modules_to_save", this.copies);
  }

  add(name: string): Module {
    const copy = this.original.clone().widenHalves().requiresGrad(true);
    this.copies.set(name, copy);
    this.names.add(name);
    return copy;
  }

  remove(name: string): void {
    this.copies.delete(name);
    this.names.delete(name);
  }

  copy(name: string): Module | null {
    return this.names.has(name) ? this.copies.child(name) : null;
  }

  /** The module in use now: the active adapter's copy, or the original. */
  get current(): Module {
    return (!this.disabled && this.active !== null && this.copy(this.active)) || this.original;
  }

  forward(...args: unknown[]): unknown {
    return (this.current as Callable).forward(...args);
  }
}
