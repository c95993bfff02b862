import { join } from "node:path";
import type { Command } from "commander";
import { methodNames } from "../adapters/index.js";
import { getBackend } from "../backend/index.js";
import { coretypeWarning, gemmLabel } from "../backend/native.js";
import {
  DEFAULT_MODEL_DIR,
  DEFAULT_SPAM_DEMO,
  runSpamDemo,
  SPAM_LABELS,
  writeSpamSplits,
} from "../demo/spam.js";
import { makeDir } from "../io/index.js";
import { nonNegativeInt, positiveInt } from "./args.js";
import { methodVariant } from "./job-options.js";
import { type Progress, progress } from "./progress.js";
import { writeCurves } from "./train.js";

const pct = (x: number | undefined): string => `${(100 * (x ?? 0)).toFixed(1)}%`;

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "fine-tune the built-in model as a spam filter with an adapter and report test accuracy before and after",
    )
    .option(
      "--method <name>",
      `adapter method or variant (${methodNames().join(", ")}; method:better, hadamard:tanh, ...)`,
      (v: string) => (methodVariant(v, "--method"), v),
      DEFAULT_SPAM_DEMO.method,
    )
    .option("--steps <n>", "training steps", positiveInt("--steps"), DEFAULT_SPAM_DEMO.steps)
    .option("--seed <n>", "random seed", nonNegativeInt("--seed"), DEFAULT_SPAM_DEMO.seed)
    .option(
      "--train-examples <n>",
      "training messages used",
      positiveInt("--train-examples"),
      DEFAULT_SPAM_DEMO.trainExamples,
    )
    .option(
      "--test-examples <n>",
      "test messages evaluated (default: the whole test split)",
      positiveInt("--test-examples"),
    )
    .option("--out <dir>", "where the adapter and the loss plot go", "morelora-demo")
    .option("--quiet", "no progress output")
    .action(
      async (opts: {
        method: string;
        steps: number;
        seed: number;
        trainExamples: number;
        testExamples?: number;
        out: string;
        quiet?: boolean;
      }) => {
        const started = performance.now();
        const warning = coretypeWarning();
        if (warning && !opts.quiet) console.warn(warning);
        const backend = getBackend().name;
        console.log(`morelora demo: backend ${backend}, ${backend === "native" ? gemmLabel() : "no BLAS"}`);
        console.log(
          `the built-in model (a 2.4M-parameter Llama pretrained on Moby-Dick and State of the Union addresses)`,
        );
        console.log(`fine-tuned as a spam filter on SpamAssassin with ${opts.method}`);
        const shown: { bar: Progress | null } = { bar: null };
        const result = await runSpamDemo(
          {
            method: opts.method,
            steps: opts.steps,
            seed: opts.seed,
            trainExamples: opts.trainExamples,
            testExamples: opts.testExamples ?? null,
          },
          {
            onStep: (step, total, loss) => {
              shown.bar ??= progress("train", total, { quiet: opts.quiet });
              shown.bar.update(step, { loss: loss.toFixed(4) });
            },
          },
        );
        shown.bar?.stop();
        makeDir(opts.out);
        const adapter = join(opts.out, "adapter");
        result.peft.save(adapter);
        const plot = await writeCurves(opts.out, result.trainer.history);
        const { trainable } = result.peft.trainableSummary();
        console.log(
          `trained ${trainable.toLocaleString("en-US")} parameters on ${result.trainCount} messages; tested on ${result.testCount}`,
        );
        console.log(
          `test accuracy: ${pct(result.before.accuracy)} before, ${pct(result.after.accuracy)} after (F1 ${pct(result.before.f1)} -> ${pct(result.after.f1)})`,
        );
        console.log(`wrote ${adapter} and ${plot} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
        const { test } = writeSpamSplits(join(opts.out, "data"));
        console.log(
          `evaluate it: morelora eval --model ${DEFAULT_MODEL_DIR} --data ${test} --task classification --labels ${SPAM_LABELS.join(",")} --adapter ${adapter}`,
        );
      },
    );
}
