import { existsSync } from "node:fs";
import { join } from "node:path";
import Table from "cli-table3";
import { type Command, Option } from "commander";
import { SEQ_CLS_HEAD_NAMES } from "../adapters/index.js";
import { BUILT_IN_TASKS, builtInTask, DEFAULT_TASKS } from "../demo/compare-tasks.js";
import { checkpointTensorNames, makeDir, writeTextFile } from "../io/index.js";
import {
  appliesTo,
  CellStore,
  causalRecordKind,
  type Comparison,
  type CompareTask,
  defaultVariants,
  isHeadTensor,
  type JobOptions,
  logSpaced,
  PAR_MARGIN,
  readRecords,
  parseVariant,
  runComparison,
} from "../train/index.js";
import { childArgs, runChains } from "./compare-jobs.js";
import { comparisonMarkdown, curvePlot, scorePlot, VALIDATION_WARNING } from "./compare-report.js";
import { addJobOptions, resolveOptions, toJobOptions } from "./job-options.js";
import { writePlot } from "./png.js";

/** The default sweep: five log-spaced rates from 1e-4 to 1e-2. */
export const DEFAULT_LRS = logSpaced(1e-4, 1e-2, 5);

export interface CompareRunOptions {
  variants: string[];
  seeds: number;
  lrs: number[];
  extend: number;
  dyloraRanks: number[];
  outDir: string;
  resume: boolean;
  /** Train nothing: the report of the finished variants in outDir. */
  reportOnly?: boolean;
  /** Run the cells only, writing no report (a worker of --jobs). */
  cellsOnly?: boolean;
  quiet?: boolean;
  /** The command line, written into the report. */
  command: string;
}

/** The scale caveat every findings section starts with. */
function caveat(base: JobOptions, tasks: readonly CompareTask[], findings: number): string {
  const scale = (t: CompareTask): string => {
    const steps = t.maxSteps ?? base.train.maxSteps;
    const modules = [t.targetModules ?? base.adapter.targetModules ?? "q_proj,v_proj"].flat().join(", ");
    return `${t.name} (${steps ? `${steps} steps` : `${base.train.epochs ?? 1} epoch(s)`}, adapters on ${modules})`;
  };
  return (
    `Scale: batch ${base.train.batchSize ?? 8}, r = ${base.adapter.r ?? 8}, tasks ${tasks.map(scale).join("; ")}. ` +
    "The papers' claims are about models of billions of parameters trained far longer; held, not seen and contradicted are about this scale only. " +
    `A claim is held when the 95% t-interval of the paired per-seed difference lies above 0 (for on par: above −${100 * PAR_MARGIN} points${tasks.some((t) => t.metric === "loss") ? `, or −${PAR_MARGIN} on a loss` : ""}), contradicted when it lies below, not seen otherwise. ` +
    `Each interval is at 95% on its own, not corrected for the ${findings} findings below: where the methods do not differ, about one finding in twenty still shows an interval clear of the line (${(findings / 20).toFixed(1)} expected here). So each held or contradicted finding also gives the p of its paired t-test and whether it stands after Holm's correction for all the findings (familywise error 5 %); one that does not (‡ in the table) asks for more seeds before it is cited.`
  );
}

/** Runs the comparison and writes results.md, results.json, and per task <task>.svg and <task>-curves.svg. */
export async function runCompare(
  base: JobOptions,
  tasks: CompareTask[],
  o: CompareRunOptions,
): Promise<Comparison> {
  const comparison = await runComparison(base, tasks, {
    variants: o.variants,
    seeds: o.seeds,
    lrs: o.lrs,
    extend: o.extend,
    dyloraRanks: o.dyloraRanks,
    outDir: o.outDir,
    resume: o.resume || Boolean(o.reportOnly),
    reportOnly: o.reportOnly,
    cellsOnly: o.cellsOnly,
    onCell: (c, reused) => {
      if (o.quiet) return;
      const score = c.validation === null ? `failed: ${c.error}` : `validation ${c.validation.toFixed(4)}`;
      console.error(
        `compare: ${c.task} ${c.variant} lr ${c.lr} seed ${c.seed}: ${reused ? "done earlier" : score}`,
      );
    },
  });
  if (o.cellsOnly) return comparison;
  for (const report of comparison.reports) {
    if (report.split === "validation") console.log(`\n!!! ${VALIDATION_WARNING}`);
    const t = new Table({
      head: [report.task, "params", "lr", `${report.split} mean ± std`, "vs reference (95% CI)"],
      style: { head: [], border: [], compact: true },
    });
    const pct = (x: number): string => (report.metric === "loss" ? x.toFixed(3) : (100 * x).toFixed(1));
    for (const b of report.baselines)
      t.push([
        b.name,
        b.parameters.toLocaleString("en-US"),
        "–",
        b.test === null ? pct(b.validation) : pct(b.test),
        "–",
      ]);
    for (const r of report.rows) {
      const d = r.versus?.difference;
      t.push([
        r.variant,
        r.parameters.toLocaleString("en-US"),
        String(r.lr ?? "–"),
        r.failed ? `failed` : `${pct(r.score.mean)} ± ${pct(r.score.std)}`,
        d
          ? `${pct(d.mean)} ${d.ci95 ? `[${pct(d.ci95[0])}, ${pct(d.ci95[1])}]` : ""} vs ${r.versus!.reference}`
          : "–",
      ]);
    }
    console.log(t.toString());
    if (report.unfinished.length)
      console.log(`not finished, left out: ${report.unfinished.map((u) => u.variant).join(", ")}`);
  }
  const words = caveat(base, tasks, comparison.findings.length);
  const lines = comparison.findings.map((f) => f.line);
  console.log(`\n${words}\n${lines.join("\n")}`);
  makeDir(o.outDir);
  writeTextFile(join(o.outDir, "results.md"), comparisonMarkdown(comparison, o.command, words));
  writeTextFile(
    join(o.outDir, "results.json"),
    `${JSON.stringify({ command: o.command, reports: comparison.reports, findings: lines, verdicts: comparison.findings.map(({ line: _, ...f }) => f) }, null, 2)}\n`,
  );
  for (const report of comparison.reports) {
    await writePlot(join(o.outDir, `${report.task}.svg`), scorePlot(report));
    await writePlot(join(o.outDir, `${report.task}-curves.svg`), curvePlot(report));
  }
  console.log(
    `wrote ${join(o.outDir, "results.md")}, results.json, cells/ and a plot and a curve plot per task`,
  );
  return comparison;
}

/**
 * The one task of `compare --model DIR --data FILE`: its metric told by the data (accuracy for a
 * classification, exact match for prompt/completion records, else the loss), the classifier head
 * trained beside every adapter, and drawn per seed when the checkpoint lacks it.
 */
async function ownDataTask(o: Record<string, unknown>): Promise<CompareTask> {
  const job = toJobOptions(o);
  const classification = job.task === "classification";
  // Prompt/completion data (by its keys, as training reads it) is scored by generation.
  if (!classification) {
    const first = await firstRecord(job.data);
    const kind = first && causalRecordKind(first, job);
    if (kind?.kind === "pair")
      Object.assign(job, { promptField: kind.prompt, completionField: kind.completion });
  }
  const generation = Boolean(job.promptField && job.completionField);
  if (generation && job.pack)
    throw new Error("--pack: generation is scored per record, so compare cannot pack prompt/completion data");
  const { adapter: _a, train: _t, full: _f, resume: _r, ...data } = job;
  void [_a, _t, _f, _r];
  // PEFT's default for SEQ_CLS: "classifier" (BERT, RoBERTa) or "score" (decoders).
  const head = classification ? ((o.modulesToSave as string[] | undefined) ?? [...SEQ_CLS_HEAD_NAMES]) : [];
  return {
    name: "task",
    metric: classification ? "accuracy" : generation ? "exact-match" : "loss",
    head,
    // A head the checkpoint lacks starts fresh: drawn per seed, as on the built-in tasks, so that
    // the seeds vary its start too.
    freshHead: head.length > 0 && !checkpointTensorNames(job.model).some((n) => isHeadTensor(n, head)),
    // splitSeed: one held-out split for every seed, recorded in the cells' settings.
    job: { ...data, splitSeed: 0, testFile: (o.test as string | undefined) ?? null },
  };
}

/** The first record of a data file (null when it has none). */
async function firstRecord(file: string): Promise<Record<string, unknown> | null> {
  for await (const { record } of readRecords(file)) return record;
  return null;
}

const positiveInt = (flag: string, v: unknown): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} expects a positive integer, got "${v}"`);
  return n;
};

const listOf = (v: unknown): string[] =>
  String(v)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export function registerCompare(program: Command): void {
  const cmd = program
    .command("compare")
    .description(
      "compare methods by a protocol: per task and method a learning-rate sweep chosen on validation, then seeds at that rate, scored on test; baselines, paired differences to LoRA, findings",
    );
  addJobOptions(cmd, { train: true, except: ["resume"] })
    .option(
      "--tasks <list>",
      `built-in tasks (without --model/--data): ${BUILT_IN_TASKS.join(", ")}`,
      DEFAULT_TASKS.join(","),
    )
    .option("--methods <list>", "variants: method, method:better, hadamard:tanh, lora@2 (rank 2), head, full")
    .option("--seeds <n>", "seeds at the chosen learning rate", "5")
    .option("--lrs <list>", "learning rates swept on seed 0 (log-spaced)", DEFAULT_LRS.join(","))
    .option("--lr-extend <n>", "extend the sweep past a winning edge at most n times a side", "2")
    .option("--ranks <list>", "lower ranks DyLoRA is read at (and LoRA trained at)", "1,2,4")
    .option("--test <file>", "held-out test data (without it the report shows validation numbers)")
    .option("--resume", "reuse the finished cells in --out and run only the missing ones")
    .option(
      "--report-only",
      "train nothing: write the report of the variants whose cells in --out are all finished, naming the others",
    )
    .option(
      "--jobs <n>",
      "run n variants' chains at once, each in its own process on one thread (a core each)",
      "1",
    )
    .addOption(
      new Option("--cells-only", "run the cells, write no report (the children of --jobs)").hideHelp(),
    )
    .action(async () => {
      const o = resolveOptions(cmd, { required: [] });
      const out = (o.outDir as string | null) ?? "morelora-compare";
      const builtIn = !o.model && !o.data;
      // Every flag is checked before any work starts.
      if (!builtIn && (!o.model || !o.data))
        throw new Error("--model and --data go together (leave both out for the built-in tasks)");
      if (builtIn && o.test)
        throw new Error("--test goes with --model and --data; the built-in tasks bring their own test split");
      if (o.reportOnly && !existsSync(join(out, "cells")))
        throw new Error(`--report-only: ${join(out, "cells")} does not exist (no finished cells to report)`);
      const jobs = positiveInt("--jobs", o.jobs);
      const seeds = positiveInt("--seeds", o.seeds);
      const lrs = listOf(o.lrs).map(Number);
      if (!lrs.length || lrs.some((x) => !(x > 0)))
        throw new Error(`--lrs expects positive numbers, got "${o.lrs}"`);
      const extend = Number(o.lrExtend);
      if (!Number.isInteger(extend) || extend < 0)
        throw new Error(`--lr-extend expects a non-negative integer, got "${o.lrExtend}"`);
      // Job flags that compare sets per cell itself: accepted, they would be silently ignored.
      for (const [flag, why, ...spellings] of [
        ["method", "compare trains the variants of --methods (a comma-separated list)", "method"],
        ["full", 'compare runs full fine-tuning as the variant "full" of --methods', "full"],
        ["lr", "compare sweeps the rates of --lrs and chooses on validation", "lr", "learningRate"],
        ["seed", "compare runs seeds 0 … n−1 of --seeds n", "seed"],
      ] as const)
        if (spellings.some((a) => cmd.getOptionValueSource(a) === "cli"))
          throw new Error(`--${flag}: ${why}`);
      if (typeof o.test === "string" && !existsSync(o.test))
        throw new Error(`--test ${o.test}: no such file or folder`);
      // Validation chooses each learning rate: an empty one would choose on NaN or a loss of 0.
      if (!builtIn && !o.validation && !((o.valRatio as number) > 0))
        throw new Error(
          "--val-ratio 0: compare chooses each learning rate on validation; give --validation FILE or a --val-ratio above 0",
        );
      const r = (o.r as number | undefined) ?? 8;
      const ranks = listOf(o.ranks).map((k) => positiveInt("--ranks", k));
      // The default ranks are cut to those below r; ranks asked for must all be read.
      const high = ranks.find((k) => k >= r);
      if (high !== undefined && cmd.getOptionValueSource("ranks") === "cli")
        throw new Error(`--ranks: ${high} is not below --r ${r} (DyLoRA is read at lower ranks)`);
      const lower = ranks.filter((k) => k < r);
      const variants = o.methods ? listOf(o.methods) : defaultVariants(r, lower);
      for (const v of variants) parseVariant(v);
      const taskNames = builtIn ? listOf(o.tasks) : [];
      for (const name of taskNames)
        if (!(BUILT_IN_TASKS as readonly string[]).includes(name))
          throw new Error(`--tasks: unknown task "${name}" (${BUILT_IN_TASKS.join(", ")})`);
      let tasks: CompareTask[];
      if (builtIn) {
        const fromCli = (key: string): boolean => cmd.getOptionValueSource(key) === "cli";
        if (!fromCli("batchSize")) o.batchSize = 16;
        // The built-in model is small: its frozen weights in float32 are the same values as decoded
        // from bf16 at every product (the same numbers), and a step runs about 7 % faster.
        o.float32Weights = true;
        const data = join(out, "data");
        makeDir(data);
        writeTextFile(join(data, ".gitignore"), "*\n");
        // Each built-in task brings the step count LoRA plateaus at, and its adapted modules;
        // --max-steps and --target replace them for every task.
        const steps = (o.maxSteps as number | null | undefined) ?? undefined;
        tasks = taskNames.map((name) => ({
          ...builtInTask(name, data),
          ...(steps ? { maxSteps: steps } : {}),
          ...(fromCli("target") ? { targetModules: undefined } : {}),
        }));
      } else tasks = [await ownDataTask(o)];
      // A variant asked for by name must apply to some task (head-only needs a classifier head).
      const unused = o.methods ? variants.find((v) => !tasks.some((t) => appliesTo(v, t))) : undefined;
      if (unused)
        throw new Error(
          `--methods: "${unused}" trains only a classifier's head, and no task here is a classification`,
        );
      const run: CompareRunOptions = {
        variants,
        seeds,
        lrs,
        extend,
        dyloraRanks: lower,
        outDir: out,
        resume: Boolean(o.resume),
        reportOnly: Boolean(o.reportOnly),
        cellsOnly: Boolean(o.cellsOnly),
        quiet: Boolean(o.quiet),
        command: `morelora ${process.argv.slice(2).join(" ")}`,
      };
      if (jobs > 1 && !run.reportOnly) {
        new CellStore(join(out, "cells"), run.resume); // refuses finished cells without --resume
        const chains = tasks.flatMap((t) =>
          variants
            .filter((v) => appliesTo(v, t))
            .map((variant) => ({ task: builtIn ? t.name : null, variant })),
        );
        const failed = await runChains(chains, childArgs(process.argv.slice(3)), jobs);
        await runCompare(toJobOptions(o), tasks, { ...run, reportOnly: true });
        if (failed.length) throw new Error(`compare --jobs: not every chain finished: ${failed.join("; ")}`);
        return;
      }
      await runCompare(toJobOptions(o), tasks, run);
    });
}
