import {
  copyFileAtomic,
  INDEX_FILE,
  isDirectory,
  joinPath,
  listFiles,
  makeDir,
  readWeightsFolder,
  resolvePath,
  SINGLE_FILE,
  type StoredTensor,
  saveSafetensors,
  type TensorToWrite,
} from "../../io/index.js";
import { formatShape, Generator, type Tensor } from "../../tensor/index.js";
import { ModuleAdapter } from "../adapter.js";
import type { AdapterConfig } from "../config.js";
import { makeContext, type SharedTensors } from "../context.js";
import { type AdapterFolder, readAdapterFolder } from "./folder.js";
import { type GroupedAdapter, groupAdapterTensors } from "./names.js";
import { layerIndex, matchesTarget } from "../inject.js";
import type { AdapterMethod } from "../method.js";
import { allMethods, methodNamed } from "../methods/index.js";
import { matchesSavedModule, SEQ_CLS_HEAD_NAMES } from "../saved-modules.js";
import { type BaseKind, WeightView } from "../view.js";

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Do a method's tensors for this weight seen as `kind` have the shapes the file has? */
function fits(
  method: AdapterMethod,
  config: AdapterConfig,
  path: string,
  kind: BaseKind,
  weight: Tensor,
  g: GroupedAdapter,
): boolean {
  const scratch: SharedTensors = new Map();
  const ctx = makeContext({
    view: new WeightView(kind, weight),
    path,
    config,
    shared: scratch,
    rng: new Generator(0),
    dtype: weight.dtype,
  });
  const own = method.init(ctx, "default");
  const file = g.modules.get(path)?.own ?? new Map<string, Tensor>();
  if (
    own.size !== file.size ||
    [...own].some(([n, t]) => !file.has(n) || !sameShape(file.get(n)!.shape, t.shape))
  )
    return false;
  return [...scratch].every(([k, t]) => g.shared.has(k) && sameShape(g.shared.get(k)!.shape, t.shape));
}

/** The layer kind the tensors fit (Linear [out, in], Conv1D [in, out], Embedding); a square weight by fan_in_fan_out. */
function layoutOf(
  method: AdapterMethod,
  folder: AdapterFolder,
  config: AdapterConfig,
  path: string,
  weight: Tensor,
  g: GroupedAdapter,
): BaseKind {
  const kinds = method.layers.filter((k) => fits(method, config, path, k, weight, g));
  if (kinds.length === 1) return kinds[0];
  if (kinds.length === 0) {
    const shapes = [...(g.modules.get(path)?.own ?? [])]
      .map(([n, t]) => `${n} ${formatShape(t.shape)}`)
      .join(", ");
    throw new Error(
      `${folder.weightsFile}: the tensors of ${path} (${shapes}) do not fit its weight ${formatShape(weight.shape)} with r = ${config.r}`,
    );
  }
  if (folder.fanInFanOut === null) {
    throw new Error(
      `${path}: its weight ${formatShape(weight.shape)} is square, so Linear and Conv1D layouts both fit; the adapter config has no "fan_in_fan_out" to tell them apart`,
    );
  }
  return folder.fanInFanOut ? "conv1d" : "linear";
}

/**
 * Folds an adapter folder into checkpoint weights in place, with no architecture: each adapted
 * module's weight is found by name, its layout by shape (or fan_in_fan_out), and the method's
 * merge rule applied; modules_to_save and trained biases replace their tensors, and a
 * classification head the base lacks is added. Returns the merged module paths and added heads.
 */
export function mergeIntoWeights(
  weights: Map<string, StoredTensor>,
  folder: AdapterFolder,
  { rank }: { rank?: number } = {},
): { modules: string[]; heads: Map<string, readonly number[]> } {
  const method = methodNamed(folder.config.method);
  if (rank !== undefined && !method.rankOption) {
    const ranked = allMethods().filter((m) => m.rankOption);
    throw new Error(
      `--rank applies to adapters whose rank varies (${ranked.map((m) => m.name).join(", ")}); this one is ${method.name}`,
    );
  }
  const config: AdapterConfig =
    rank === undefined || !method.rankOption
      ? folder.config
      : { ...folder.config, [method.rankOption]: rank };
  const g = groupAdapterTensors(folder.tensors, method);
  const heads = new Map<string, readonly number[]>();
  for (const [name, t] of g.others) {
    const target = name.endsWith(".base_layer.bias") ? name.replace(/\.base_layer\.bias$/, ".bias") : name;
    // A classification head trained from scratch on a causal LM (SEQ_CLS) is new to the base.
    if (
      !weights.has(target) &&
      matchesSavedModule(target.slice(0, target.lastIndexOf(".")), SEQ_CLS_HEAD_NAMES)
    ) {
      weights.set(target, { tensor: t, dtype: "F32" });
      heads.set(target, t.shape);
      continue;
    }
    const stored = weights.get(target);
    if (!stored)
      throw new Error(`${folder.weightsFile}: tensor "${name}" names no tensor of the base checkpoint`);
    if (!sameShape(stored.tensor.shape, t.shape)) {
      throw new Error(
        `${folder.weightsFile}: "${name}" has shape ${formatShape(t.shape)}, the base's ${target} is ${formatShape(stored.tensor.shape)}`,
      );
    }
    stored.tensor.floatData.set(t.data);
  }
  const initShared = config.init === "better" ? new Map(g.initShared) : null;
  addSharedOnlyModules(g, config, weights);
  for (const [path, { own, init }] of g.modules) {
    const stored = weights.get(`${path}.weight`);
    if (!stored)
      throw new Error(
        `${folder.weightsFile}: the adapter has tensors for ${path}, but the base has no ${path}.weight`,
      );
    const kind = layoutOf(method, folder, config, path, stored.tensor, g);
    refuseUntargeted(folder, config, path, kind);
    const view = new WeightView(kind, stored.tensor);
    const ctx = makeContext({
      view,
      path,
      config,
      shared: g.shared,
      rng: new Generator(0),
      dtype: stored.tensor.dtype,
    });
    method.validate?.(ctx);
    const adapter = new ModuleAdapter(method, ctx, own, initShared);
    for (const [name, t] of adapter.initTensors ?? []) {
      const saved = init.get(name);
      if (!saved)
        throw new Error(
          `${folder.weightsFile}: "better" init tensor ${path}.morelora_init.${name} is missing`,
        );
      t.floatData.set(saved.data);
    }
    view.assign(adapter.merge(view.dense()).weight);
  }
  return { modules: [...g.modules.keys()], heads };
}

/** An adapter whose tensors name a module its own config does not target is refused, as loading it would be. */
function refuseUntargeted(folder: AdapterFolder, config: AdapterConfig, path: string, kind: BaseKind): void {
  const layer = layerIndex(path, config.layersPattern);
  const inLayers = !config.layersToTransform || (layer !== null && config.layersToTransform.includes(layer));
  if (matchesTarget(path, config.targetModules, kind) && inLayers) return;
  throw new Error(
    `${folder.weightsFile}: has tensors for ${path}, which its config's "target_modules" ${JSON.stringify(config.targetModules)}${config.layersToTransform ? ` and "layers_to_transform" ${JSON.stringify(config.layersToTransform)}` : ""} do not select`,
  );
}

/**
 * Modules whose adapter lives only in shared maps (CondLoRA) have no tensors of their own in the
 * file; they are the base weights of those module types that the config's targets select.
 */
function addSharedOnlyModules(
  g: GroupedAdapter,
  config: AdapterConfig,
  weights: Map<string, StoredTensor>,
): void {
  const types = new Set([...g.shared.keys()].map((k) => k.slice(0, k.indexOf("."))));
  if (types.size === 0) return;
  for (const [name, { tensor }] of weights) {
    if (!name.endsWith(".weight") || tensor.ndim !== 2) continue;
    const path = name.slice(0, -".weight".length);
    if (g.modules.has(path) || !types.has(path.slice(path.lastIndexOf(".") + 1))) continue;
    if (!matchesTarget(path, config.targetModules, "linear")) continue;
    const layer = layerIndex(path, config.layersPattern);
    if (config.layersToTransform && (layer === null || !config.layersToTransform.includes(layer))) continue;
    g.modules.set(path, { own: new Map(), init: new Map() });
  }
}

export interface MergeFolderResult {
  modules: string[];
  /** Shapes of the classification head tensors the base lacked (config.json then needs the classifier's). */
  heads: Map<string, readonly number[]>;
  outFile: string;
  copied: string[];
}

/**
 * morelora merge: base checkpoint folder (single or sharded safetensors) + adapter folder →
 * out/model.safetensors (each tensor in its stored dtype) and the base's other files
 * (config.json, tokenizer files). Refuses to write into the base folder.
 */
export function mergeAdapterFolder(
  base: string,
  adapter: string,
  out: string,
  options: { rank?: number } = {},
): MergeFolderResult {
  if (resolvePath(out) === resolvePath(base))
    throw new Error(`--out ${out} is the base folder; merging never overwrites the base`);
  if (!isDirectory(base)) throw new Error(`--base ${base}: no such folder`);
  const folder = readAdapterFolder(adapter);
  const weights = readWeightsFolder(base);
  const { modules, heads } = mergeIntoWeights(weights, folder, options);
  makeDir(out);
  const outFile = joinPath(out, SINGLE_FILE);
  saveSafetensors(
    outFile,
    [...weights].map(([name, { tensor, dtype }]) => [name, { tensor, dtype }] as [string, TensorToWrite]),
    { format: "pt" },
  );
  const copied = listFiles(base).filter((f) => !f.endsWith(".safetensors") && f !== INDEX_FILE);
  for (const f of copied) copyFileAtomic(joinPath(base, f), joinPath(out, f));
  return { modules, heads, outFile, copied };
}
