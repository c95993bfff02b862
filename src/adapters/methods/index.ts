import type { AdapterMethod, MethodOption } from "../method.js";
import { additive } from "./additive.js";
import { condlora } from "./condlora.js";
import { dora } from "./dora.js";
import { dylora } from "./dylora.js";
import { hadamard } from "./hadamard.js";
import { hadamardAdd } from "./hadamard-add.js";
import { loha } from "./loha.js";
import { lora } from "./lora.js";
import { moslora } from "./moslora.js";

/**
 * The method registry, as PEFT's register_peft_method: every method by its config name. This is
 * the only list of methods; adding one is one file and one line here (docs/adding-a-method.md).
 */
const registry = new Map<string, AdapterMethod>();

/** Adds a method (built-in ones below; a program or test may add its own before using it). */
export function registerMethod(method: AdapterMethod): void {
  if (registry.has(method.name)) throw new Error(`method "${method.name}" is already registered`);
  for (const option of method.options ?? []) {
    const known = optionTable().find((o) => o.key === option.key);
    const fields = ["type", "default", "values", "min", "nullable", "help"] as const;
    if (known && fields.some((f) => JSON.stringify(known[f]) !== JSON.stringify(option[f]))) {
      throw new Error(
        `method "${method.name}": option "${option.key}" differs from the one ${known.methods.join(", ")} declares`,
      );
    }
  }
  registry.set(method.name, method);
}

for (const method of [lora, dora, moslora, condlora, dylora, additive, hadamard, hadamardAdd, loha])
  registerMethod(method);

/** The registered method names, in registration order. */
export function methodNames(): string[] {
  return [...registry.keys()];
}

/** Every registered method. */
export function allMethods(): AdapterMethod[] {
  return [...registry.values()];
}

/** A method by name, or an error naming where the name came from and the known ones. */
export function methodNamed(name: string, where = 'adapter config "method"'): AdapterMethod {
  const method = registry.get(name);
  if (!method) {
    throw new Error(`${where}: expected one of ${methodNames().join(", ")}, got ${JSON.stringify(name)}`);
  }
  return method;
}

/**
 * Every method option once, with the methods that read it: plain data (key, type, default,
 * allowed values or minimum, help), from which the CLI flags and config-file keys are derived.
 */
export function optionTable(): (MethodOption & { methods: string[] })[] {
  const rows = new Map<string, MethodOption & { methods: string[] }>();
  for (const method of registry.values()) {
    for (const option of method.options ?? []) {
      const row = rows.get(option.key);
      if (row) row.methods.push(method.name);
      else rows.set(option.key, { ...option, methods: [method.name] });
    }
  }
  return [...rows.values()];
}
