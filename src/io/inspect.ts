import { statSync } from "node:fs";
import { join } from "node:path";
import { weightFiles } from "./weights-folder.js";
import { fileExists, readJsonFile } from "./files.js";
import { SafetensorsFile } from "./safetensors.js";

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
}

export interface SafetensorsSummary {
  kind: "safetensors";
  path: string;
  tensors: TensorEntry[];
  parameters: number;
  bytes: number;
}

export interface ModelFolderSummary {
  kind: "model";
  path: string;
  config: Record<string, unknown>;
  files: string[];
  tensors: number;
  parameters: number;
  dtypes: Record<string, number>;
  bytes: number;
}

/** The tensors of one safetensors file, read from its header only. */
export function inspectSafetensors(path: string): SafetensorsSummary {
  const f = SafetensorsFile.open(path);
  try {
    const tensors = f.names().map((name) => {
      const { dtype, shape } = f.info(name);
      return { name, dtype, shape };
    });
    const parameters = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
    return { kind: "safetensors", path, tensors, parameters, bytes: statSync(path).size };
  } finally {
    f.close();
  }
}

/** Headline fields of config.json we show, when present. */
const CONFIG_FIELDS = [
  "architectures",
  "model_type",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "vocab_size",
  "torch_dtype",
];

/** A HuggingFace model folder: config.json's headline fields and its checkpoint's tensors. */
export function inspectModelFolder(dir: string): ModelFolderSummary {
  const configPath = join(dir, "config.json");
  const config = fileExists(configPath) ? (readJsonFile(configPath) as Record<string, unknown>) : {};
  const files = weightFiles(dir);
  const summaries = files.map(inspectSafetensors);
  const dtypes: Record<string, number> = {};
  for (const s of summaries) for (const t of s.tensors) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
  return {
    kind: "model",
    path: dir,
    config: Object.fromEntries(CONFIG_FIELDS.filter((k) => k in config).map((k) => [k, config[k]])),
    files: files.map((f) => f.slice(dir.length + 1)),
    tensors: summaries.reduce((n, s) => n + s.tensors.length, 0),
    parameters: summaries.reduce((n, s) => n + s.parameters, 0),
    dtypes,
    bytes: summaries.reduce((n, s) => n + s.bytes, 0),
  };
}
