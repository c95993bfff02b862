import type { Module } from "../nn/index.js";
import type { AdapterConfig } from "./config.js";
import { AdapterLayer, baseKind } from "./layer.js";
import { matchesSavedModule } from "./saved-modules.js";

/** PEFT's usual names of the list that holds a model's layers. */
const LAYER_LISTS = ["layers", "h", "block", "blocks", "layer"];
/** Names of output heads, which "all-linear" leaves out as PEFT does. */
const OUTPUT_HEADS = new Set(["lm_head", "score", "classifier", "embed_out", "output"]);

/** The layer index in a module path ("model.layers.3.mlp" → 3), or null when it is in no layer list. */
export function layerIndex(path: string, patterns: readonly string[] | null): number | null {
  const names = (patterns ?? LAYER_LISTS).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  const match = new RegExp(`(?:^|\\.)(?:${names})\\.(\\d+)(?:\\.|$)`).exec(path);
  return match ? Number(match[1]) : null;
}

/** Does a module path match targetModules (names by end of path, one regex by full match, "all-linear")? */
export function matchesTarget(path: string, targets: AdapterConfig["targetModules"], kind: string): boolean {
  if (targets === "all-linear") {
    return kind !== "embedding" && !OUTPUT_HEADS.has(path.slice(path.lastIndexOf(".") + 1));
  }
  if (typeof targets === "string") return new RegExp(`^(?:${targets})$`).test(path);
  return targets.some((name) => path === name || path.endsWith(`.${name}`));
}

/** Does path, or a module above it, match modules_to_save? */
function insideSavedModule(path: string, modulesToSave: readonly string[]): boolean {
  const parts = path.split(".");
  return parts.some((_, i) => matchesSavedModule(parts.slice(0, i + 1).join("."), modulesToSave));
}

/** Paths of the modules an adapter can wrap (already wrapped ones count as their base). */
export function adaptableModules(model: Module): { path: string; kind: string }[] {
  const out: { path: string; kind: string }[] = [];
  for (const [path, m] of model.namedModules()) {
    if (path.endsWith(".base_layer") || path === "base_layer") continue;
    const kind = m instanceof AdapterLayer ? m.view.kind : baseKind(m);
    if (kind) out.push({ path, kind });
  }
  return out;
}

/** The paths a config adapts; an error naming the patterns and listing the candidates if none. */
export function findTargets(model: Module, config: AdapterConfig): string[] {
  const candidates = adaptableModules(model);
  const found = candidates
    .filter(({ path, kind }) => matchesTarget(path, config.targetModules, kind))
    // As PEFT: a module in modules_to_save (or inside one) is trained whole, never adapted.
    .filter(({ path }) => !insideSavedModule(path, config.modulesToSave))
    .filter(({ path }) => {
      if (!config.layersToTransform) return true;
      const index = layerIndex(path, config.layersPattern);
      return index !== null && config.layersToTransform.includes(index);
    })
    .map(({ path }) => path);
  if (found.length === 0) {
    const layers = config.layersToTransform ? ` in layers ${config.layersToTransform.join(", ")}` : "";
    throw new Error(
      `targetModules ${JSON.stringify(config.targetModules)} matched no module${layers}; ` +
        `the model's Linear, Conv1D and Embedding modules are: ${candidates.map((c) => c.path).join(", ") || "(none)"}`,
    );
  }
  return found;
}

/** Puts an AdapterLayer in place of the module at path (or returns the one already there). */
export function wrapModule(model: Module, path: string): AdapterLayer {
  const current = model.getSubmodule(path);
  if (current instanceof AdapterLayer) return current;
  const kind = baseKind(current);
  if (!kind)
    throw new Error(`${path} is a ${current.constructor.name}; adapters wrap Linear, Conv1D and Embedding`);
  const layer = new AdapterLayer(current as ConstructorParameters<typeof AdapterLayer>[0]);
  replaceAt(model, path, layer);
  return layer;
}

/** Puts module m at a dotted path in place of what is there. */
export function replaceAt(model: Module, path: string, m: Module): void {
  const dot = path.lastIndexOf(".");
  const parent = dot < 0 ? model : model.getSubmodule(path.slice(0, dot));
  parent.replaceChild(path.slice(dot + 1), m);
}
