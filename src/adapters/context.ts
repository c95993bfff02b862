import type { DType, Generator, Tensor } from "../tensor/index.js";
import type { AdapterConfig } from "./config.js";
import type { AdapterMethod, MethodContext } from "./method.js";
import type { WeightView } from "./view.js";

/** PEFT's pattern rule: a key matches a module path when the path ends with it (as a regex, after a dot). */
export function patternValue(path: string, patterns: Readonly<Record<string, number>>): number | undefined {
  for (const [key, value] of Object.entries(patterns)) {
    if (new RegExp(`^(.*\\.)?(${key})$`).test(path)) return value;
  }
  return undefined;
}

/** The rank, alpha and scale of one module, with rankPattern / alphaPattern applied. */
export function moduleScaling(
  path: string,
  config: AdapterConfig,
): { r: number; alpha: number; scale: number } {
  const r = patternValue(path, config.rankPattern) ?? config.r;
  const alpha = patternValue(path, config.alphaPattern) ?? config.alpha;
  return { r, alpha, scale: config.useRslora ? alpha / Math.sqrt(r) : alpha / r };
}

/** Tensors shared across modules (CondLoRA's maps), keyed "<module type>.<name>". */
export type SharedTensors = Map<string, Tensor>;

/** A shared tensor's name in the model's trainable parameters and the adapter file: "<sharedPrefix>.<key>". */
export function sharedTensorPath(method: AdapterMethod, key: string): string {
  if (!method.sharedPrefix)
    throw new Error(`method "${method.name}" shares tensors across modules but declares no sharedPrefix`);
  return `${method.sharedPrefix}.${key}`;
}

export function makeContext(args: {
  view: WeightView;
  path: string;
  config: AdapterConfig;
  shared: SharedTensors;
  rng: Generator;
  dtype: DType;
}): MethodContext {
  const { view, path, config, shared, rng, dtype } = args;
  const moduleType = path.slice(path.lastIndexOf(".") + 1);
  return {
    view,
    path,
    moduleType,
    config,
    rng,
    dtype,
    ...moduleScaling(path, config),
    shared(name, make) {
      const key = `${moduleType}.${name}`;
      let t = shared.get(key);
      if (!t) {
        t = make();
        shared.set(key, t);
      }
      return t;
    },
  };
}
