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
} from "../../io/index.js";
import { formatShape, noGrad, type Tensor } from "../../tensor/index.js";
import type { AdapterConfig } from "../config.js";
import { fromPeftConfig, peftTypeOf, toPeftConfig } from "./config.js";
import type { BaseKind } from "../view.js";
import { modelCard } from "./model-card.js";
import { PREFIX } from "./names.js";

/** An adapter folder as PEFT writes it (docs/adapter-format.md). */
export const CONFIG_FILE = "adapter_config.json";
export const WEIGHTS_FILE = "adapter_model.safetensors";

/**
 * Writes an adapter folder: adapter_config.json, adapter_model.safetensors (tensors by their names
 * in the file), README.md, each atomically; kinds are those of the adapted modules; baseModel and
 * taskType are written as base_model_name_or_path and task_type.
 */
export function writeAdapterFolder(
  dir: string,
  config: AdapterConfig,
  tensors: ReadonlyMap<string, Tensor>,
  kinds: readonly BaseKind[],
  { baseModel = null, taskType = null }: { baseModel?: string | null; taskType?: string | null } = {},
): void {
  makeDir(dir);
  saveSafetensors(joinPath(dir, WEIGHTS_FILE), tensors, { format: "pt" });
  writeJsonFile(joinPath(dir, CONFIG_FILE), toPeftConfig(config, kinds, { baseModel, taskType }));
  writeTextFile(joinPath(dir, "README.md"), modelCard(config, peftTypeOf(config, kinds), baseModel));
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

/** Copies a folder's tensors into an adapter's (by their names in the file); every name and shape must agree. */
export function assignAdapterTensors(expected: ReadonlyMap<string, Tensor>, folder: AdapterFolder): void {
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
