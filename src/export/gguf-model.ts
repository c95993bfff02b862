import { readAdapterFolder } from "../adapters/peft/folder.js";
import { mergeIntoWeights } from "../adapters/peft/merge.js";
import { type GgufTensor, type GgufValue, gguf, writeGguf } from "../io/gguf.js";
import { GGML_TYPES, type GgmlType } from "../io/ggml-types.js";
import { isDirectory, joinPath, readWeightsFolder, readJsonFile } from "../io/index.js";
import { type GgufArchitecture, ggufArchitecture } from "./architectures.js";
import { tokenizerMetadata } from "./gguf-tokenizer.js";
import { permuteRopeRows, transpose } from "./weights.js";

export const EXPORT_DTYPES = ["f32", "f16", "bf16", "q8_0"] as const;
export type ExportDType = (typeof EXPORT_DTYPES)[number];

const TENSOR_TYPE: Record<ExportDType, GgmlType> = { f32: "F32", f16: "F16", bf16: "BF16", q8_0: "Q8_0" };
/** llama.cpp's general.file_type (llama_ftype): ALL_F32, MOSTLY_F16, MOSTLY_Q8_0, MOSTLY_BF16. */
const FILE_TYPE: Record<ExportDType, number> = { f32: 0, f16: 1, q8_0: 7, bf16: 32 };

export interface ExportModelOptions {
  /** An adapter folder of any method, merged into the weights first. */
  adapter?: string;
  dtype?: ExportDType;
  /** llama.cpp pre-tokenizer name, when tokenizer.json's is not one export recognises. */
  tokenizerPre?: string;
  /** general.name; defaults to the model folder's name. */
  name?: string;
}

export interface ExportModelResult {
  arch: string;
  tensors: number;
  mergedModules: string[];
}

/**
 * The GGUF tensor for one checkpoint tensor: renamed, Conv1D weights transposed, Llama's q/k
 * rows permuted for llama.cpp's RoPE, matrices at the export dtype and vectors (norms, biases)
 * at f32. Q8_0 needs rows of whole 32-value blocks; other rows fall back to F16, as llama.cpp's
 * converter does.
 */
function ggufTensor(
  arch: GgufArchitecture,
  name: string,
  data: ArrayLike<number>,
  shape: readonly number[],
  dtype: ExportDType,
): GgufTensor | null {
  const dot = name.lastIndexOf(".");
  const place = arch.module(name.slice(0, dot));
  if (!place) return null;
  const kind = name.slice(dot + 1);
  const matrix = shape.length === 2;
  const outShape = place.transposed && matrix ? [shape[1], shape[0]] : shape;
  let type: GgmlType = matrix ? TENSOR_TYPE[dtype] : "F32";
  if (outShape[outShape.length - 1] % GGML_TYPES[type].blockSize !== 0) type = "F16";
  return {
    name: `${place.name}.${kind}`,
    shape: outShape,
    type,
    values: () => {
      const laid = place.transposed && matrix ? transpose(data, shape[0], shape[1]) : data;
      const rows = outShape[0];
      return place.ropeHeads === null
        ? laid
        : permuteRopeRows(laid, rows, matrix ? outShape[1] : 1, place.ropeHeads);
    },
  };
}

/**
 * morelora export: a HuggingFace folder (and optionally an adapter merged in) → one GGUF file
 * that llama.cpp loads, with the architecture's hyperparameters, the tokenizer and chat template.
 */
export function exportGgufModel(
  modelDir: string,
  out: string,
  options: ExportModelOptions = {},
): ExportModelResult {
  const { dtype = "f32" } = options;
  if (!EXPORT_DTYPES.includes(dtype))
    throw new Error(`--dtype ${dtype}: expected one of ${EXPORT_DTYPES.join(", ")}`);
  if (!isDirectory(modelDir)) throw new Error(`--model ${modelDir}: no such folder`);
  const configFile = joinPath(modelDir, "config.json");
  const config = readJsonFile(configFile) as Record<string, unknown>;
  const arch = ggufArchitecture(config, configFile);
  const folder = options.adapter === undefined ? null : readAdapterFolder(options.adapter);
  // Tokenizer problems surface before the weights are read.
  const tokenizer = tokenizerMetadata(modelDir, arch.vocabSize, config, { pre: options.tokenizerPre });
  const weights = readWeightsFolder(modelDir);
  const mergedModules = folder ? mergeIntoWeights(weights, folder).modules : [];
  const tensors: GgufTensor[] = [...arch.extraTensors];
  for (const [stored, { tensor }] of weights) {
    const name = arch.checkpointName(stored);
    if (name === null) continue;
    const t = ggufTensor(arch, name, tensor.floatData, tensor.shape, dtype);
    if (!t) throw new Error(`${modelDir}: tensor "${stored}" has no place in a GGUF ${arch.arch} model`);
    tensors.push(t);
  }
  const metadata = new Map<string, GgufValue>([
    ["general.architecture", gguf.str(arch.arch)],
    ["general.type", gguf.str("model")],
    ["general.name", gguf.str(options.name ?? modelDir.replace(/\/+$/, "").split("/").pop() ?? "model")],
    ["general.file_type", gguf.u32(FILE_TYPE[dtype])],
    ["general.quantization_version", gguf.u32(2)],
    ...arch.hparams,
    ...tokenizer,
  ]);
  writeGguf(out, metadata, tensors);
  return { arch: arch.arch, tensors: tensors.length, mergedModules };
}
