import type { Backend } from "./backend.js";
import { jsBackend } from "./js/index.js";

export type {
  AdamWArgs,
  AttentionArgs,
  Backend,
  BinaryOp,
  FloatArray,
  GatedActivation,
  GemmArgs,
  UnaryOp,
} from "./backend.js";
export { jsBackend } from "./js/index.js";

const registry = new Map<string, Backend>([["js", jsBackend]]);
const unavailable = new Map<string, string>();
let current: Backend | undefined;

/** Records why a backend could not be loaded, for the fallback notice and for errors naming it. */
export function setUnavailableNote(name: string, why: string): void {
  unavailable.set(name, why);
}

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
    const why = unavailable.get(name);
    throw new Error(
      `backend "${name}" is not available${why ? `: ${why}` : ""} (available: ${availableBackends().join(", ")})`,
    );
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
  if (registry.has("native")) return setBackend("native");
  const why = unavailable.get("native");
  // Said once per process: the fallback works, but the user should know what they are missing.
  if (why) console.warn(`morelora: using the TypeScript backend: ${why}`);
  return setBackend("js");
}
