import {
  weightFiles,
  joinPath,
  makeDir,
  readJsonFile,
  SafetensorsFile,
  saveSafetensors,
  writeJsonFile,
} from "../io/index.js";
import { Conv1D, Embedding, Linear, seedDropout } from "../nn/index.js";
import { type DType, formatShape, noGrad, Tensor } from "../tensor/index.js";
import { ConfigReader } from "./hf-config.js";
import { type BertConfig, bertConfigFrom, BertForSequenceClassification, BertModel } from "./bert.js";
import { Gpt2LMHeadModel, gpt2ConfigFrom } from "./gpt2.js";
import {
  type LlamaConfig,
  LlamaForCausalLM,
  LlamaForSequenceClassification,
  llamaConfigFrom,
} from "./llama.js";
import type { PretrainedModel } from "./pretrained.js";

type Builder = (c: ConfigReader, dtype: DType) => PretrainedModel;
/** An architecture: the model_type its config carries and how to build it. */
interface Architecture {
  modelType: string;
  build: Builder;
  /** Its sequence-classification variant (the same body, a fresh head), if it has one. */
  classifier?: string;
}

const padTokenId = (c: ConfigReader): number | null => (c.has("pad_token_id") ? c.int("pad_token_id") : null);
const llamaFamily = (modelType: LlamaConfig["modelType"]): [string, Architecture][] => {
  const prefix = { llama: "Llama", qwen2: "Qwen2", mistral: "Mistral" }[modelType];
  return [
    [
      `${prefix}ForCausalLM`,
      {
        modelType,
        build: (c, d) => new LlamaForCausalLM(llamaConfigFrom(c, modelType), d),
        classifier: `${prefix}ForSequenceClassification`,
      },
    ],
    [
      `${prefix}ForSequenceClassification`,
      {
        modelType,
        build: (c, d) =>
          new LlamaForSequenceClassification(llamaConfigFrom(c, modelType), c.numLabels(), padTokenId(c), d),
      },
    ],
  ];
};
const bertFamily = (flavor: BertConfig["flavor"]): [string, Architecture][] => {
  const prefix = flavor === "bert" ? "Bert" : "Roberta";
  return [
    [
      `${prefix}Model`,
      {
        modelType: flavor,
        build: (c, d) => new BertModel(bertConfigFrom(c, flavor), d),
        classifier: `${prefix}ForSequenceClassification`,
      },
    ],
    [
      `${prefix}ForSequenceClassification`,
      {
        modelType: flavor,
        build: (c, d) => new BertForSequenceClassification(bertConfigFrom(c, flavor), d),
      },
    ],
  ];
};

/** Every supported "architectures" entry; adding one is a file in models/ and a line here. */
const ARCHITECTURES = new Map<string, Architecture>([
  ...llamaFamily("llama"),
  ...llamaFamily("qwen2"),
  ...llamaFamily("mistral"),
  ["GPT2LMHeadModel", { modelType: "gpt2", build: (c, d) => new Gpt2LMHeadModel(gpt2ConfigFrom(c), d) }],
  ...bertFamily("bert"),
  ...bertFamily("roberta"),
]);

export function registerArchitecture(name: string, modelType: string, build: Builder): void {
  ARCHITECTURES.set(name, { modelType, build });
}

export const supportedArchitectures = (): string[] => [...ARCHITECTURES.keys()];

/**
 * The config.json fields that load a causal LM (or a bare encoder) as its sequence classifier
 * for these labels, as transformers' AutoModelForSequenceClassification does: the same body and
 * a fresh head. Null when the config already describes a classifier.
 */
export function sequenceClassifierFields(
  json: Record<string, unknown>,
  labels: readonly string[],
  file = "config.json",
): Record<string, unknown> | null {
  const name = Array.isArray(json.architectures) ? json.architectures[0] : undefined;
  if (typeof name === "string" && name.endsWith("ForSequenceClassification")) return null;
  const classifier = typeof name === "string" ? ARCHITECTURES.get(name)?.classifier : undefined;
  if (!classifier)
    throw new Error(`${file}: ${String(name)} has no sequence-classification variant in morelora`);
  return {
    architectures: [classifier],
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    num_labels: labels.length,
  };
}

/**
 * Builds the (randomly initialised) model a config.json object describes. Every "architectures"
 * entry must be supported and "model_type" (when given) must be the one of that architecture:
 * transformers builds from model_type, so a mismatch means a different model.
 */
export function buildModel(
  json: Record<string, unknown>,
  { file = "config.json", dtype = "float32" as DType, overridden = [] as readonly string[] } = {},
): PretrainedModel {
  const archs = json.architectures;
  if (!Array.isArray(archs) || archs.length === 0 || archs.some((a) => typeof a !== "string"))
    throw new Error(`${file}: "architectures" must list the model class, e.g. ["LlamaForCausalLM"]`);
  for (const name of archs as string[]) {
    if (!ARCHITECTURES.has(name))
      throw new Error(
        `${file}: architecture ${name} is not supported (supported: ${supportedArchitectures().join(", ")})`,
      );
  }
  const arch = ARCHITECTURES.get(archs[0] as string)!;
  const modelType = json.model_type;
  if (modelType !== undefined && modelType !== arch.modelType)
    throw new Error(
      `${file}: "model_type" ${JSON.stringify(modelType)} is not the one of ${archs[0]} ("${arch.modelType}")`,
    );
  const model = arch.build(new ConfigReader(json, file, new Set(overridden)), dtype);
  model.hfConfig = json;
  seedDropout(model, 0); // each dropout site its own stream; the trainer reseeds them from its seed
  return model;
}

/**
 * Loads a HuggingFace model folder (config.json and model.safetensors or a sharded index) from
 * disk; nothing is fetched. Tensors are read one at a time into the model (bf16/f16 upcast), so
 * peak memory is the model plus its largest tensor. Missing or misshapen tensors are errors.
 * With halfWeights, the bf16/f16 weight matrices of Linear, Conv1D and Embedding layers stay in
 * their file's precision, frozen (docs/memory.md); everything else loads as before.
 * onProgress hears the tensors loaded so far out of the model's.
 */
export function loadModel(
  dir: string,
  {
    dtype = "float32" as DType,
    warn = console.warn,
    config = {} as Record<string, unknown>,
    onProgress = undefined as ((done: number, total: number) => void) | undefined,
    halfWeights = false,
  } = {},
): PretrainedModel {
  const configFile = joinPath(dir, "config.json");
  // config overrides fields of config.json, e.g. architectures and id2label to load a causal LM as a classifier.
  const json = { ...(readJsonFile(configFile) as Record<string, unknown>), ...config };
  const model = buildModel(json, { file: configFile, dtype, overridden: Object.keys(config) });
  const own = model.stateDict();
  const seen = new Set<string>(model.tiedNames());
  // Half weights feed float32 GEMMs only; a float64 model (gradient checks) widens everything.
  const matrices = halfWeights && dtype === "float32" ? matrixWeights(model) : new Set<string>();
  const halves = new Map<Tensor, Tensor>();
  noGrad(() => {
    for (const path of weightFiles(dir)) {
      const file = SafetensorsFile.open(path);
      try {
        for (const stored of file.names()) {
          const name = model.checkpointName(stored);
          if (name === null || seen.has(name)) continue;
          const target = own.get(name);
          if (!target) throw new Error(`${path}: tensor "${stored}" is not part of ${model.architecture}`);
          const info = file.info(stored);
          if (info.shape.length !== target.shape.length || info.shape.some((d, i) => d !== target.shape[i])) {
            throw new Error(
              `${path}: "${stored}" has shape ${formatShape(info.shape)}, the config needs ${formatShape(target.shape)}`,
            );
          }
          if (matrices.has(name) && (info.dtype === "BF16" || info.dtype === "F16")) {
            const bytes = file.readBytes(stored);
            const words = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
            halves.set(
              target,
              new Tensor(words, target.shape, info.dtype === "BF16" ? "bfloat16" : "float16"),
            );
          } else target.data.set(file.read(stored).data);
          seen.add(name);
          onProgress?.(seen.size, own.size);
        }
      } finally {
        file.close();
      }
    }
  });
  model.replaceTensors(halves);
  const missing = [...own.keys()].filter((k) => !seen.has(k));
  const fresh = missing.filter((k) => model.mayBeFresh(k));
  const absent = missing.filter((k) => !model.mayBeFresh(k));
  if (absent.length)
    throw new Error(
      `${dir}: the checkpoint lacks ${absent.slice(0, 6).join(", ")}${absent.length > 6 ? `, … (${absent.length} in all)` : ""}`,
    );
  if (fresh.length)
    warn(
      `morelora: ${fresh.join(", ")} not in the checkpoint; initialised fresh (train them, e.g. with modulesToSave)`,
    );
  // In eval mode, as transformers' from_pretrained leaves it: dropout acts only once training sets train mode.
  return model.eval();
}

/** Writes model.safetensors and config.json, the layout loadModel and HF's from_pretrained read. */
export function saveModel(
  model: PretrainedModel,
  dir: string,
  { dtype }: { dtype?: "F32" | "BF16" | "F16" } = {},
): void {
  makeDir(dir);
  const tied = new Set(model.tiedNames());
  const tensors: [string, Tensor | { tensor: Tensor; dtype: "F32" | "BF16" | "F16" }][] = [
    ...model.stateDict(),
  ]
    .filter(([name]) => !tied.has(name))
    .map(([name, t]) => [name, dtype ? { tensor: t, dtype } : t]);
  saveSafetensors(joinPath(dir, "model.safetensors"), tensors, { format: "pt" });
  writeJsonFile(joinPath(dir, "config.json"), { ...model.hfConfig, architectures: [model.architecture] });
}

/** Names of the weight matrices that may stay in half precision: those of Linear, Conv1D, Embedding. */
function matrixWeights(model: PretrainedModel): Set<string> {
  const names = new Set<string>();
  for (const [path, m] of model.namedModules())
    if (m instanceof Linear || m instanceof Conv1D || m instanceof Embedding)
      names.add(path ? `${path}.weight` : "weight");
  return names;
}
