import { fileURLToPath } from "node:url";
import type { PeftModel } from "../adapters/index.js";
import { joinPath, makeDir, writeTextFile } from "../io/index.js";
import { HFTokenizer, loadModel } from "../models/index.js";
import { Generator } from "../tensor/index.js";
import {
  assembleJob,
  type EvalResult,
  examplesFromRecords,
  jobTrainer,
  shuffled,
  type Trainer,
  type TrainerHooks,
  parseVariant,
} from "../train/index.js";
import { spamRecords } from "./corpus.js";

/** The built-in model: a small Llama pretrained by scripts/pretrain-default.mjs, shipped in the package. */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL("../../../assets/morelora-default", import.meta.url));

export const SPAM_LABELS = ["ham", "spam"];

/** The built-in model seen as a spam/ham classifier (a fresh "score" head on the pretrained decoder). */
export const SPAM_CLASSIFIER_CONFIG = {
  architectures: ["LlamaForSequenceClassification"],
  id2label: { 0: "ham", 1: "spam" },
};

/**
 * Writes the fixed SpamAssassin split as train/validation/test JSONL files (fields text, label)
 * into dir, texts clipped to maxChars, validation sampled down to maxValidation; returns their paths.
 */
export function writeSpamSplits(
  dir: string,
  maxChars = 1024,
): { train: string; validation: string; test: string } {
  makeDir(dir);
  const paths = {
    train: joinPath(dir, "train.jsonl"),
    validation: joinPath(dir, "validation.jsonl"),
    test: joinPath(dir, "test.jsonl"),
  };
  const records = spamRecords();
  for (const split of ["train", "validation", "test"] as const) {
    const lines = records
      .filter((r) => r.split === split)
      .map((r) => JSON.stringify({ text: r.text.slice(0, maxChars), label: r.label }));
    writeTextFile(paths[split], `${lines.join("\n")}\n`);
  }
  return paths;
}

export interface SpamDemoOptions {
  /** A method or variant ("dora", "hadamard:tanh", "lora:better"). */
  method: string;
  steps: number;
  batchSize: number;
  maxLength: number;
  lr: number;
  r: number;
  alpha: number;
  seed: number;
  /** Training messages used (the first of the fixed train split). */
  trainExamples: number;
  /** Test messages evaluated (the first of the fixed test split); all when null. */
  testExamples: number | null;
}

export const DEFAULT_SPAM_DEMO: SpamDemoOptions = {
  method: "dora",
  steps: 120,
  batchSize: 16,
  maxLength: 96,
  lr: 5e-3,
  r: 8,
  alpha: 16,
  seed: 0,
  trainExamples: 2000,
  testExamples: null,
};

export interface SpamDemoResult {
  peft: PeftModel;
  trainer: Trainer;
  before: EvalResult;
  after: EvalResult;
  trainCount: number;
  testCount: number;
}

/**
 * morelora's main job on its built-in default: the built-in model becomes a spam/ham classifier
 * (a fresh "score" head, trained in full) fine-tuned with an adapter on q_proj and v_proj; test
 * accuracy is measured before and after.
 */
export async function runSpamDemo(
  options: Partial<SpamDemoOptions> = {},
  hooks: TrainerHooks = {},
  modelDir = DEFAULT_MODEL_DIR,
): Promise<SpamDemoResult> {
  const o = { ...DEFAULT_SPAM_DEMO, ...options };
  const model = loadModel(modelDir, { config: SPAM_CLASSIFIER_CONFIG, warn: () => {} });
  const tok = HFTokenizer.load(modelDir);
  const records = spamRecords();
  // A seeded sample of each split (the corpus is ordered by group, all ham first); long mails are
  // cut to a few characters per token before tokenizing, as only maxLength tokens are kept.
  const clip = (split: string, n: number | null) => {
    const rows = records.filter((r) => r.split === split);
    const order = shuffled(rows.length, new Generator(o.seed + 1));
    return order
      .slice(0, n ?? undefined)
      .map((i) => ({ text: rows[i].text.slice(0, o.maxLength * 8), label: rows[i].label }));
  };
  const data = {
    kind: "classification",
    textField: "text",
    labelField: "label",
    labels: SPAM_LABELS,
    maxLength: o.maxLength,
  } as const;
  const train = examplesFromRecords(clip("train", o.trainExamples), tok, data, "spam train message");
  const test = examplesFromRecords(clip("test", o.testExamples), tok, data, "spam test message");
  const job = assembleJob(
    model,
    tok,
    { train, validation: [], test, numClasses: SPAM_LABELS.length },
    {
      adapter: {
        r: o.r,
        alpha: o.alpha,
        targetModules: ["q_proj", "v_proj"],
        ...parseVariant(o.method).adapter,
      },
      seed: o.seed,
    },
  );
  const trainer = jobTrainer(
    job,
    {
      batchSize: o.batchSize,
      maxSteps: o.steps,
      lr: o.lr,
      schedule: "linear",
      warmupSteps: Math.round(o.steps / 10),
      seed: o.seed,
    },
    hooks,
  );
  const before = trainer.evaluate(test);
  await trainer.run();
  const after = trainer.evaluate(test);
  const peft = job.peft!;
  return { peft, trainer, before, after, trainCount: train.length, testCount: test.length };
}
