import { getPeftModel } from "../adapters/index.js";
import { readAdapterFolder } from "../adapters/peft/folder.js";
import { mergeIntoWeights } from "../adapters/peft/merge.js";
import { loadModel } from "../models/index.js";
import { noGrad } from "../tensor/index.js";
import { baseFolder } from "./base-folder.js";
import { truncatedSvd } from "./svd.js";
import { transpose } from "./weights.js";

export interface ConvertResult {
  base: string;
  /** Each module's ‖ΔW − B·A‖_F / ‖ΔW‖_F. */
  errors: { module: string; relativeError: number }[];
}

/**
 * morelora convert --to lora: an adapter of any method → a plain PEFT LoRA of rank `rank`. Each
 * module's ΔW is the merged weight minus the base weight (so DoRA's magnitude, CondLoRA's shared
 * maps, a "better" init and every method's own rule are folded in by the merge code), and its
 * truncated SVD gives B and A; alpha = r, so PEFT's scale is 1 (docs/export.md).
 */
export function convertToLora(
  adapterDir: string,
  out: string,
  { rank, base }: { rank: number; base?: string },
): ConvertResult {
  if (!Number.isInteger(rank) || rank <= 0) throw new Error(`--rank expects a positive integer, got ${rank}`);
  const folder = readAdapterFolder(adapterDir);
  const { config } = folder;
  if (config.modulesToSave.length || config.bias !== "none")
    throw new Error(
      `${adapterDir}: modules_to_save and trained biases are full tensors, not low-rank updates; convert handles adapters without them`,
    );
  const baseDir = baseFolder(adapterDir, base);
  const model = loadModel(baseDir, { warn: () => {} });
  // The model's own tensor names (checkpoints may spell them otherwise), merged in float64 so
  // that ΔW = merged − base does not lose its digits to W's rounding.
  for (const [k, t] of folder.tensors) folder.tensors.set(k, t.to("float64"));
  const base64 = new Map(
    [...model.stateDict()].map(([k, t]) => [k, { tensor: t.to("float64"), dtype: "F64" as const }]),
  );
  const merged = new Map([...base64].map(([k, s]) => [k, { ...s, tensor: s.tensor.clone() }]));
  const { modules } = mergeIntoWeights(merged, folder);
  const peft = getPeftModel(model, { method: "lora", r: rank, alpha: rank, targetModules: modules });
  peft.baseModelNameOrPath = baseDir;
  peft.taskType = model.peftTaskType;
  const errors: ConvertResult["errors"] = [];
  noGrad(() => {
    for (const [path, layer] of peft.layers()) {
      const { kind } = layer.view;
      const w = layer.view.weight;
      const before = base64.get(`${path}.weight`)!.tensor.floatData;
      const after = merged.get(`${path}.weight`)!.tensor.floatData;
      const delta = Float64Array.from(after, (x, i) => x - before[i]);
      // LoRA's B·A is [out, in]: a Linear's layout; Conv1D and Embedding store the transpose.
      const [rows, cols] = w.shape;
      const linear = kind === "linear";
      const m = linear ? rows : cols;
      const n = linear ? cols : rows;
      const { a, b, relativeError } = truncatedSvd(linear ? delta : transpose(delta, rows, cols), m, n, rank);
      const tensors = layer.adapter("default")!.tensors;
      const names =
        kind === "embedding" ? ["lora_embedding_A", "lora_embedding_B"] : ["lora_A.weight", "lora_B.weight"];
      tensors.get(names[0])!.floatData.set(a);
      tensors.get(names[1])!.floatData.set(b);
      errors.push({ module: path, relativeError });
    }
  });
  peft.save(out);
  return { base: baseDir, errors };
}
