import type { Backend } from "./backend.js";
import { jsBackend } from "./js/index.js";

export type { AdamWArgs, Backend, BinaryOp, FloatArray, GemmArgs, UnaryOp } from "./backend.js";
export { jsBackend } from "./js/index.js";

const registry = new Map<string, Backend>([["js", jsBackend]]);
let current: Backend | undefined;

/** Makes a backend selectable by name (the native addon registers itself as "native"). */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

export function availableBackends(): string[] {
  return [...registry.keys()];
}

/** Selects the backend all tensor ops use from now on. */
export function setBackend(name: string): Backend {
  const b = registry.get(name);
  if (!b) {
    throw new Error(`backend "${name}" is not available (available: ${availableBackends().join(", ")})`);
  }
  current = b;
  return b;
}

/**
 * The backend in use: the one set with setBackend, else the one named by MORELORA_BACKEND,
 * else the fastest registered.
 */
export function getBackend(): Backend {
  if (current) return current;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const wanted = env?.MORELORA_BACKEND;
  if (wanted) {
    try {
      return setBackend(wanted);
    } catch (e) {
      throw new Error(`MORELORA_BACKEND=${wanted}: ${(e as Error).message}`);
    }
  }
  return setBackend(registry.has("native") ? "native" : "js");
}
