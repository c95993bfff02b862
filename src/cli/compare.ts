import { tmpdir } from "node:os";
import { join } from "node:path";
import Table from "cli-table3";
import type { Command } from "commander";
import { makeDir, writeJsonFile, writeTextFile } from "../io/index.js";
import { DEFAULT_MODEL_DIR, SPAM_CLASSIFIER_CONFIG, SPAM_LABELS, writeSpamSplits } from "../demo/spam.js";
import { type CompareRow, compareMethods, DEFAULT_VARIANTS, type JobOptions } from "../train/index.js";
import { addJobOptions, methodVariant, resolveOptions, toJobOptions } from "./job-options.js";
import { lineChartSvg } from "./plot.js";

/** The comparison as a Markdown table in the style of the papers' (mean ± std over seeds). */
export function compareMarkdown(rows: readonly CompareRow[], metric: string): string {
  const lines = [
    `| method | trainable params | ${metric} (mean ± std) | lr | s / run | peak RSS MB |`,
    "|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.variant} | ${r.parameters.toLocaleString("en-US")} | ${score(r, metric)} | ${r.lr} | ${r.seconds.toFixed(1)} | ${r.peakRssMb.toFixed(0)} |`,
    );
  }
  return lines.join("\n");
}

/** Accuracy in percent; a loss as it is (compare reports −loss so that higher is better). */
function score(r: CompareRow, metric: string): string {
  return metric === "accuracy"
    ? `${(100 * r.mean).toFixed(1)} ± ${(100 * r.std).toFixed(1)}`
    : `${(-r.mean).toFixed(3)} ± ${r.std.toFixed(3)}`;
}

export function comparePlot(rows: readonly CompareRow[], metric: string): string {
  const value = (r: CompareRow): number => (metric === "accuracy" ? 100 * r.mean : -r.mean);
  const series = rows.map((r) => ({
    name: r.variant,
    points: [[r.parameters, value(r)]] as [number, number][],
  }));
  const yLabel = metric === "accuracy" ? "accuracy (%)" : "loss";
  return lineChartSvg(series, {
    title: `${metric} against trainable parameters`,
    xLabel: "trainable parameters",
    yLabel,
    markers: true,
  });
}

/** Runs the comparison and writes compare.md, compare.json and compare.svg into outDir (if given). */
export async function runCompare(
  job: JobOptions,
  opts: {
    variants: string[];
    seeds: number;
    lrs: number[];
    testFile?: string | null;
    outDir?: string | null;
    quiet?: boolean;
  },
): Promise<CompareRow[]> {
  const rows = await compareMethods(job, {
    variants: opts.variants,
    seeds: opts.seeds,
    lrs: opts.lrs,
    testFile: opts.testFile,
    variableRanks: [1, 2, 4].filter((k) => k < (job.adapter.r ?? 8)),
    onRun: (variant, lr, seed) => {
      if (!opts.quiet) console.error(`compare: ${variant}, lr ${lr}, seed ${seed}`);
    },
  });
  const metric = job.task === "classification" ? "accuracy" : "loss";
  const t = new Table({
    head: ["method", "params", metric === "accuracy" ? "accuracy %" : "loss", "lr", "s/run", "peak MB"],
    style: { head: [], border: [], compact: true },
  });
  for (const r of rows)
    t.push([
      r.variant,
      r.parameters.toLocaleString("en-US"),
      score(r, metric),
      String(r.lr),
      r.seconds.toFixed(1),
      r.peakRssMb.toFixed(0),
    ]);
  console.log(t.toString());
  if (opts.outDir) {
    makeDir(opts.outDir);
    writeTextFile(join(opts.outDir, "compare.md"), `${compareMarkdown(rows, metric)}\n`);
    writeJsonFile(join(opts.outDir, "compare.json"), rows);
    writeTextFile(join(opts.outDir, "compare.svg"), comparePlot(rows, metric));
    console.log(`wrote ${join(opts.outDir, "compare.md")}, compare.json, compare.svg`);
  }
  return rows;
}

export function registerCompare(program: Command): void {
  const cmd = program
    .command("compare")
    .description(
      "train several methods with equal settings over seeds and a learning-rate sweep: a table and a plot",
    );
  addJobOptions(cmd, { train: true })
    .option("--methods <list>", "variants: method, method:better, hadamard:tanh", DEFAULT_VARIANTS.join(","))
    .option("--seeds <n>", "seeds per variant", "3")
    .option("--lrs <list>", "learning rates to sweep", "1e-3,3e-3")
    .option("--test <file>", "test data (default: the validation split)")
    .action(async () => {
      const o = resolveOptions(cmd, { required: [] });
      // Without --model and --data: the built-in default, the built-in model on the SpamAssassin split.
      if (!o.model && !o.data) {
        const splits = writeSpamSplits(join(tmpdir(), `morelora-spam-${process.pid}`));
        Object.assign(o, {
          model: DEFAULT_MODEL_DIR,
          modelConfig: SPAM_CLASSIFIER_CONFIG,
          data: splits.train,
          validation: splits.validation,
          task: "classification",
          labels: SPAM_LABELS,
        });
        o.test ??= splits.test;
        if (cmd.getOptionValueSource("maxLength") !== "cli") o.maxLength = 96;
        if (cmd.getOptionValueSource("batchSize") !== "cli") o.batchSize = 16;
      } else if (!o.model || !o.data)
        throw new Error("--model and --data go together (leave both out for the built-in spam task)");
      const seeds = Number(o.seeds);
      if (!Number.isInteger(seeds) || seeds < 1)
        throw new Error(`--seeds expects a positive integer, got "${o.seeds}"`);
      const lrs = String(o.lrs).split(",").map(Number);
      if (lrs.some((x) => !(x > 0))) throw new Error(`--lrs expects positive numbers, got "${o.lrs}"`);
      const variants = String(o.methods).split(",");
      for (const v of variants) methodVariant(v, "--methods");
      await runCompare(toJobOptions(o), {
        variants,
        seeds,
        lrs,
        testFile: (o.test as string) ?? null,
        outDir: (o.outDir as string) ?? null,
        quiet: Boolean(o.quiet),
      });
    });
}
