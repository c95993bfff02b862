import { moduleScaling } from "../adapters/context.js";
import { methodNamed } from "../adapters/methods/index.js";
import { readAdapterFolder } from "../adapters/peft/folder.js";
import { groupAdapterTensors } from "../adapters/peft/names.js";
import { type GgufTensor, type GgufValue, gguf, writeGguf } from "../io/gguf.js";
import { fileExists, joinPath, readJsonFile } from "../io/index.js";
import { baseFolder } from "./base-folder.js";
import { ggufArchitecture } from "./architectures.js";
import { permuteRopeRows } from "./weights.js";

export interface ExportLoraResult {
  arch: string;
  modules: number;
  alpha: number;
  base: string;
}

/**
 * morelora export --adapter: a plain LoRA adapter → llama.cpp's GGUF LoRA (the `--lora` format of
 * convert_lora_to_gguf.py): "<gguf name>.weight.lora_a" [r, in] and ".lora_b" [out, r] per
 * module, f32, and adapter.lora.alpha. llama.cpp scales each module by alpha / r; each B is
 * multiplied by the module's own scale over that, so rsLoRA and rank/alpha patterns carry over.
 * Llama's q/k B rows get the same RoPE permutation as the base weights (docs/export.md).
 */
export function exportGgufLora(
  adapterDir: string,
  out: string,
  { base }: { base?: string } = {},
): ExportLoraResult {
  const folder = readAdapterFolder(adapterDir);
  const { config } = folder;
  if (config.method !== "lora" || config.init === "better")
    throw new Error(
      `${adapterDir}: a GGUF LoRA holds plain LoRA only; this adapter is ${config.method}${config.init === "better" ? ' with "better" init' : ""} (merge it into the model with --model, or turn it into a plain LoRA with morelora convert --to lora)`,
    );
  const baseDir = baseFolder(adapterDir, base);
  const configFile = joinPath(baseDir, "config.json");
  if (!fileExists(configFile)) throw new Error(`${baseDir}: no config.json`);
  const arch = ggufArchitecture(readJsonFile(configFile) as Record<string, unknown>, configFile);
  const g = groupAdapterTensors(folder.tensors, methodNamed(config.method));
  const extra = [...g.others.keys()];
  if (extra.length)
    throw new Error(
      `${folder.weightsFile}: "${extra[0]}" is a full tensor (modules_to_save or bias); a GGUF LoRA holds only LoRA pairs (merge with --model instead)`,
    );
  const alpha = config.alpha;
  const tensors: GgufTensor[] = [];
  for (const [path, { own }] of g.modules) {
    const a = own.get("lora_A.weight");
    const b = own.get("lora_B.weight");
    if (!a || !b)
      throw new Error(
        `${folder.weightsFile}: ${path} has no lora_A/lora_B pair (embedding adapters cannot go into a GGUF LoRA)`,
      );
    const place = arch.module(path);
    if (!place || place.name === "token_embd")
      throw new Error(`${folder.weightsFile}: ${path} has no place in a GGUF ${arch.arch} LoRA`);
    const [r, inFeatures] = a.shape;
    const outFeatures = b.shape[0];
    // llama.cpp's scale is alpha / r, or 1 when alpha is 0.
    const fold = moduleScaling(path, config).scale / (alpha ? alpha / r : 1);
    tensors.push(
      { name: `${place.name}.weight.lora_a`, shape: [r, inFeatures], type: "F32", values: () => a.floatData },
      {
        name: `${place.name}.weight.lora_b`,
        shape: [outFeatures, r],
        type: "F32",
        values: () => {
          const scaled = b.floatData.map((x) => x * fold);
          return place.ropeHeads === null ? scaled : permuteRopeRows(scaled, outFeatures, r, place.ropeHeads);
        },
      },
    );
  }
  const metadata = new Map<string, GgufValue>([
    ["general.architecture", gguf.str(arch.arch)],
    ["general.type", gguf.str("adapter")],
    ["adapter.type", gguf.str("lora")],
    ["adapter.lora.alpha", gguf.f32(alpha)],
  ]);
  writeGguf(out, metadata, tensors);
  return { arch: arch.arch, modules: g.modules.size, alpha, base: baseDir };
}
