import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Tensor } from "../tensor/index.js";
import { readJsonFile } from "./files.js";
import { type SafetensorsDType, SafetensorsFile } from "./safetensors.js";

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

/**
 * The safetensors files of a HuggingFace checkpoint folder: model.safetensors, or the shards
 * that model.safetensors.index.json's weight_map names. Errors name the folder or file.
 */
export function weightFiles(dir: string): string[] {
  const single = join(dir, SINGLE_FILE);
  if (existsSync(single)) return [single];
  const indexPath = join(dir, INDEX_FILE);
  if (!existsSync(indexPath)) throw new Error(`${dir}: no ${SINGLE_FILE} or ${INDEX_FILE}`);
  const index = readJsonFile(indexPath) as { weight_map?: Record<string, string> };
  if (typeof index.weight_map !== "object" || index.weight_map === null) {
    throw new Error(`${indexPath}: "weight_map" is missing`);
  }
  const shards = [...new Set(Object.values(index.weight_map))].sort();
  for (const s of shards) {
    if (typeof s !== "string" || s.includes("/") || s.includes("\\"))
      throw new Error(`${indexPath}: bad shard name ${JSON.stringify(s)}`);
    if (!existsSync(join(dir, s))) throw new Error(`${indexPath}: shard ${s} is missing`);
  }
  return shards.map((s) => join(dir, s));
}

/** One tensor of a checkpoint with the dtype it was stored in (F16/BF16 are upcast on read). */
export interface StoredTensor {
  tensor: Tensor;
  dtype: SafetensorsDType;
}

/** Reads every tensor of a checkpoint folder; a name found in two shards is an error. */
export function readWeightsFolder(dir: string): Map<string, StoredTensor> {
  const out = new Map<string, StoredTensor>();
  for (const path of weightFiles(dir)) {
    const f = SafetensorsFile.open(path);
    try {
      for (const name of f.names()) {
        if (out.has(name)) throw new Error(`${path}: tensor "${name}" is also in another shard`);
        out.set(name, { tensor: f.read(name), dtype: f.info(name).dtype });
      }
    } finally {
      f.close();
    }
  }
  return out;
}

/** The tensor names of a checkpoint folder, from the files' headers alone (no tensor is read). */
export function checkpointTensorNames(dir: string): string[] {
  return weightFiles(dir).flatMap((path) => {
    const f = SafetensorsFile.open(path);
    try {
      return f.names();
    } finally {
      f.close();
    }
  });
}
