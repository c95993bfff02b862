import { type AdapterConfigInput, methodNamed } from "../adapters/index.js";
import { type JobOptions, jobTrainer, prepareJob } from "./job.js";
import type { Example } from "./tasks.js";

/**
 * A method variant by name, the one grammar of train's --method, compare's --methods and demo's
 * --method: a method ("dora"), optionally with ":better" (MoreLoRA's init) or ":<value>" of one
 * of the method's options (Hadamard's activation, ":tanh"). `where` starts its error messages.
 */
export function variantConfig(
  name: string,
  where = `compare: variant "${name}"`,
): Partial<AdapterConfigInput> {
  const [methodName, value] = name.split(":");
  const method = methodNamed(methodName, where);
  if (value === undefined) return { method: method.name };
  if (value === "better") return { method: method.name, init: "better" };
  const option = method.options?.find((o) => o.values?.includes(value));
  if (!option) {
    const values = (method.options ?? []).flatMap((o) => o.values ?? []);
    throw new Error(
      `${where}: unknown option ":${value}" in "${name}" (${["better", ...values].join(", ")})`,
    );
  }
  return { method: method.name, [option.key]: value };
}

/** The seed papers' methods as morelora compares them by default. */
export const DEFAULT_VARIANTS = [
  "lora",
  "dora",
  "moslora",
  "condlora",
  "dylora",
  "additive",
  "hadamard",
  "hadamard:tanh",
  "hadamard-add",
  "loha",
  "lora:better",
  "dora:better",
];

export interface CompareRow {
  variant: string;
  lr: number;
  parameters: number;
  /** The metric (accuracy, or −loss for language modelling) per seed on the test set. */
  scores: number[];
  mean: number;
  std: number;
  seconds: number;
  peakRssMb: number;
}

export interface CompareOptions {
  variants: string[];
  seeds: number;
  /** Learning rates tried per variant; the one with the best mean validation score is reported. */
  lrs: number[];
  /** Examples to report on (default: the validation set). */
  testFile?: string | null;
  /** For methods whose rank varies (DyLoRA): ranks to report besides r (the "nested ranks" claim). */
  variableRanks?: number[];
  onRun?(variant: string, lr: number, seed: number): void;
}

const meanStd = (xs: number[]): { mean: number; std: number } => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, std };
};

/** Trains every variant with equal settings over seeds and a learning-rate sweep; one row per variant (and DyLoRA rank). */
export async function compareMethods(base: JobOptions, options: CompareOptions): Promise<CompareRow[]> {
  const rows: CompareRow[] = [];
  const examples = new Map<string, Example[]>();
  for (const variant of options.variants) {
    const perLr: (CompareRow & { valid: number; extra: Map<number, number[]> })[] = [];
    for (const lr of options.lrs) {
      const scores: number[] = [];
      const valid: number[] = [];
      const extra = new Map<number, number[]>();
      let parameters = 0;
      let peak = 0;
      const started = performance.now();
      for (let seed = 0; seed < options.seeds; seed++) {
        options.onRun?.(variant, lr, seed);
        const train = { ...base.train, lr, seed, outDir: null };
        const job = await prepareJob(
          {
            ...base,
            testFile: options.testFile,
            adapter: { ...base.adapter, ...variantConfig(variant) },
            train,
          } as JobOptions,
          examples,
        );
        const trainer = jobTrainer(job, train, {
          onStep: () => {
            peak = Math.max(peak, process.memoryUsage().rss / 2 ** 20);
          },
        });
        await trainer.run();
        const score = (examples: typeof job.validation): number => {
          const r = trainer.evaluate(examples);
          return r.accuracy ?? -r.loss;
        };
        parameters = job.peft ? job.peft.trainableSummary().trainable : job.model.parameters().length;
        valid.push(score(job.validation));
        scores.push(score(job.test.length ? job.test : job.validation));
        for (const k of job.peft?.rankVaries() ? (options.variableRanks ?? []) : []) {
          job.peft!.setRank(k);
          extra.set(k, [...(extra.get(k) ?? []), score(job.test.length ? job.test : job.validation)]);
        }
      }
      perLr.push({
        variant,
        lr,
        parameters,
        scores,
        ...meanStd(scores),
        seconds: (performance.now() - started) / 1000 / options.seeds,
        peakRssMb: peak,
        valid: meanStd(valid).mean,
        extra,
      });
    }
    const best = perLr.reduce((a, b) => (b.valid > a.valid ? b : a));
    const { valid: _valid, extra, ...row } = best;
    void _valid;
    rows.push(row);
    for (const [k, scores] of extra)
      rows.push({ ...row, variant: `${variant} (rank ${k})`, scores, ...meanStd(scores) });
  }
  return rows;
}
