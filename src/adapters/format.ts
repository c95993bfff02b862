import {
  fileExists,
  isDirectory,
  joinPath,
  loadSafetensors,
  makeDir,
  readJsonFile,
  saveSafetensors,
  writeJsonFile,
  writeTextFile,
} from "../io/index.js";
import { formatShape, noGrad, type Tensor } from "../tensor/index.js";
import type { AdapterConfig } from "./config.js";
import type { AdapterMethod } from "./method.js";
import { methodNamed } from "./methods/index.js";
import { sharedTensorPath } from "./context.js";
import { fromPeftConfig, peftTypeOf, toPeftConfig } from "./peft-config.js";
import type { PeftModel } from "./peft-model.js";

export const CONFIG_FILE = "adapter_config.json";
export const WEIGHTS_FILE = "adapter_model.safetensors";
/** Every tensor name in an adapter file starts with this (PEFT's PeftModel → LoraModel → model). */
export const PREFIX = "base_model.model.";
/** Path part of the frozen initial tensors a "better" init saves beside the trained ones. */
export const INIT_PART = "morelora_init";

/**
 * An adapter's tensors under their names in the adapter file; the same map drives saving and
 * loading, so what is written is exactly what is read back.
 */
export function adapterTensors(peft: PeftModel, name: string): Map<string, Tensor> {
  const config = peft.config(name);
  const method = methodNamed(config.method);
  const out = new Map<string, Tensor>();
  for (const [path, layer] of peft.layers()) {
    const adapter = layer.adapter(name);
    if (!adapter) continue;
    for (const [file, t] of adapter.tensors) out.set(`${PREFIX}${path}.${file}`, t);
    for (const [file, t] of adapter.initTensors ?? []) out.set(`${PREFIX}${path}.${INIT_PART}.${file}`, t);
    if (config.bias === "lora_only" && layer.view.bias)
      out.set(`${PREFIX}${path}.base_layer.bias`, layer.view.bias);
  }
  for (const [key, t] of peft.sharedTensors(name)) out.set(`${PREFIX}${sharedTensorPath(method, key)}`, t);
  for (const [key, t] of peft.sharedTensors(name, true))
    out.set(`${PREFIX}${sharedTensorPath(method, `${INIT_PART}.${key}`)}`, t);
  for (const [path, saved] of peft.model.namedModules()) {
    const copy = (saved as { copy?: (n: string) => unknown }).copy?.(name);
    if (!copy) continue;
    for (const [p, t] of (copy as PeftModel["model"]).namedParameters()) out.set(`${PREFIX}${path}.${p}`, t);
  }
  if (config.bias === "all") {
    for (const [p, t] of peft.model.namedParameters()) {
      if (/(^|\.)bias$/.test(p) && !p.includes(".original_module.") && !p.includes(".modules_to_save.")) {
        out.set(`${PREFIX}${p}`, t);
      }
    }
  }
  return out;
}

const modelCard = (c: AdapterConfig): string =>
  `---\nlibrary_name: morelora\n---\n\n# ${c.method} adapter\n\nWritten by morelora: ${peftTypeOf(c)}, r = ${c.r}, alpha = ${c.alpha}, ` +
  `targets ${JSON.stringify(c.targetModules)}.\n`;

/** Writes an adapter folder: adapter_config.json, adapter_model.safetensors, README.md (each atomically). */
export function saveAdapter(peft: PeftModel, dir: string, name: string): void {
  const config = peft.config(name);
  makeDir(dir);
  const kinds = peft
    .layers()
    .filter(([, l]) => l.adapter(name))
    .map(([, l]) => l.view.kind);
  const fanInFanOut = kinds.length > 0 && kinds.every((k) => k === "conv1d");
  saveSafetensors(joinPath(dir, WEIGHTS_FILE), adapterTensors(peft, name), { format: "pt" });
  writeJsonFile(joinPath(dir, CONFIG_FILE), toPeftConfig(config, { fanInFanOut }));
  writeTextFile(joinPath(dir, "README.md"), modelCard(config));
}

export interface AdapterFolder {
  config: AdapterConfig;
  /** fan_in_fan_out as written, null when the file has no such key. */
  fanInFanOut: boolean | null;
  tensors: Map<string, Tensor>;
  weightsFile: string;
}

/** Reads and checks an adapter folder (not yet matched to a model). */
export function readAdapterFolder(dir: string): AdapterFolder {
  if (!isDirectory(dir)) throw new Error(`${dir}: not an adapter folder (no such directory)`);
  const configFile = joinPath(dir, CONFIG_FILE);
  if (!fileExists(configFile)) throw new Error(`${dir}: no ${CONFIG_FILE}`);
  const { config, fanInFanOut } = fromPeftConfig(readJsonFile(configFile), configFile);
  const weightsFile = joinPath(dir, WEIGHTS_FILE);
  if (!fileExists(weightsFile)) {
    const bin = fileExists(joinPath(dir, "adapter_model.bin"))
      ? " (adapter_model.bin is a pickle; save with safe_serialization)"
      : "";
    throw new Error(`${dir}: no ${WEIGHTS_FILE}${bin}`);
  }
  const tensors = loadSafetensors(weightsFile);
  for (const key of tensors.keys()) {
    if (!key.startsWith(PREFIX))
      throw new Error(`${weightsFile}: tensor "${key}" does not start with "${PREFIX}"`);
  }
  return { config, fanInFanOut, tensors, weightsFile };
}

/** Copies a folder's tensors into an adapter built from its config; every name and shape must agree. */
export function assignAdapterTensors(peft: PeftModel, name: string, folder: AdapterFolder): void {
  const expected = adapterTensors(peft, name);
  const { config } = folder;
  const problems: string[] = [];
  for (const [key, t] of folder.tensors) {
    const target = expected.get(key);
    if (!target) problems.push(`unknown tensor "${key}"`);
    else if (target.shape.length !== t.shape.length || target.shape.some((d, i) => d !== t.shape[i])) {
      problems.push(
        `"${key}" has shape ${formatShape(t.shape)}, the config (${config.method}, r = ${config.r}) needs ${formatShape(target.shape)}`,
      );
    }
  }
  const missing = [...expected.keys()].filter((k) => !folder.tensors.has(k));
  if (missing.length)
    problems.push(
      `missing tensors: ${missing.slice(0, 8).join(", ")}${missing.length > 8 ? `, … (${missing.length})` : ""}`,
    );
  if (problems.length) throw new Error(`${folder.weightsFile}: ${problems.join("; ")}`);
  noGrad(() => {
    for (const [key, t] of folder.tensors) expected.get(key)!.floatData.set(t.data);
  });
}

/** What a tensor name of an adapter file (after the prefix) stands for. */
export type AdapterKey =
  | { kind: "module"; path: string; name: string; init: boolean }
  | { kind: "shared"; key: string; init: boolean }
  | { kind: "other"; name: string };

/** Reads tensor names by the method's own: its per-module tensor names and its shared prefix. */
export function adapterKeyParser(method: AdapterMethod): (name: string) => AdapterKey {
  const moduleKey = method.tensorNames
    ? new RegExp(`^(?<path>.+?)\\.(?<init>${INIT_PART}\\.)?(?<name>${method.tensorNames.source})$`)
    : null;
  const sharedKey = method.sharedPrefix
    ? new RegExp(`^${method.sharedPrefix}\\.(?<init>${INIT_PART}\\.)?(?<key>[^.]+\\..+)$`)
    : null;
  return (name) => {
    const shared = sharedKey?.exec(name);
    if (shared) return { kind: "shared", key: shared.groups!.key, init: Boolean(shared.groups!.init) };
    const m = moduleKey?.exec(name);
    if (m)
      return { kind: "module", path: m.groups!.path, name: m.groups!.name, init: Boolean(m.groups!.init) };
    return { kind: "other", name };
  };
}

/** An adapter folder's tensors grouped by module, with the shared maps and the remaining (full) tensors. */
export interface GroupedAdapter {
  modules: Map<string, { own: Map<string, Tensor>; init: Map<string, Tensor> }>;
  shared: Map<string, Tensor>;
  initShared: Map<string, Tensor>;
  /** modules_to_save and bias tensors, by their name in the base model. */
  others: Map<string, Tensor>;
}

/** Groups a folder's tensors by the names its method declares. */
export function groupAdapterTensors(folder: AdapterFolder): GroupedAdapter {
  const parseKey = adapterKeyParser(methodNamed(folder.config.method));
  const g: GroupedAdapter = {
    modules: new Map(),
    shared: new Map(),
    initShared: new Map(),
    others: new Map(),
  };
  for (const [full, t] of folder.tensors) {
    const key = parseKey(full.slice(PREFIX.length));
    if (key.kind === "shared") (key.init ? g.initShared : g.shared).set(key.key, t);
    else if (key.kind === "other") g.others.set(key.name, t);
    else {
      let entry = g.modules.get(key.path);
      if (!entry) g.modules.set(key.path, (entry = { own: new Map(), init: new Map() }));
      (key.init ? entry.init : entry.own).set(key.name, t);
    }
  }
  return g;
}
