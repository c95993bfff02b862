import { join } from "node:path";
import type { Command } from "commander";
import { coretypeWarning } from "../backend/native.js";
import { type LogEntry, trainJob } from "../train/index.js";
import { addJobOptions, resolveOptions, toJobOptions } from "./job-options.js";
import { lineChartSvg } from "./plot.js";
import { writePlot } from "./png.js";
import { type Progress, progress, slowProgress } from "./progress.js";
import { prepareRunFolder } from "./run-folder.js";

const show = (r: Record<string, number | undefined> | null): string =>
  r
    ? Object.entries(r)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k} ${v!.toFixed(4)}`)
        .join(", ")
    : "-";

/** loss.svg and loss.png: the training loss per step and the validation metrics per evaluation. */
export async function writeCurves(outDir: string, history: readonly LogEntry[]): Promise<string> {
  const series = [
    {
      name: "train loss",
      points: history.filter((e) => e.loss !== undefined).map((e): [number, number] => [e.step, e.loss!]),
    },
  ];
  const evalLoss = history
    .filter((e) => e.eval_loss !== undefined)
    .map((e): [number, number] => [e.step, e.eval_loss]);
  if (evalLoss.length) series.push({ name: "validation loss", points: evalLoss });
  const file = join(outDir, "loss.svg");
  await writePlot(file, lineChartSvg(series, { title: "loss", xLabel: "step", yLabel: "loss" }));
  return file;
}

export function registerTrain(program: Command): void {
  const cmd = program
    .command("train")
    .description("fine-tune a model with an adapter (or in full) on a JSONL/CSV file");
  addJobOptions(cmd, { train: true }).action(async () => {
    const options = resolveOptions(cmd);
    const job = toJobOptions(options);
    const quiet = Boolean(options.quiet);
    const warning = coretypeWarning();
    if (warning && !quiet) console.warn(warning);
    const folder = prepareRunFolder({
      out: (options.outDir as string | null) ?? undefined,
      resume: options.resume as string | undefined,
      overwrite: Boolean(options.overwrite),
    });
    job.train.outDir = folder.dir;
    if (folder.fresh) console.log(`writing to ${folder.dir} (no --out given)`);
    const shown: { bar: Progress | null } = { bar: null };
    const loading = slowProgress("load", { quiet, unit: "tensors" });
    const evaluating = slowProgress("eval", { quiet });
    const result = await trainJob(job, {
      onLoadTensor: (done, total) => loading.update(done, total),
      onEvalBatch: (done, total) => evaluating.update(done, total),
      onStep: (step, total, loss) => {
        shown.bar ??= progress("train", total, { quiet });
        shown.bar.update(step, { loss: loss.toFixed(4) });
      },
    });
    shown.bar?.stop();
    if (result.stopped === "interrupted") {
      const checkpoint = join(folder.dir, "checkpoint");
      console.log(
        `interrupted at step ${result.trainer.step}: saved ${checkpoint}; continue with the same options and --resume ${checkpoint}`,
      );
      process.exitCode = 130;
      return;
    }
    if (!quiet) {
      console.log(`validation before: ${show(result.before as Record<string, number> | null)}`);
      console.log(`validation after:  ${show(result.after as Record<string, number> | null)}`);
    }
    if (result.stopped !== "done") console.log(`stopped: ${result.stopped} at step ${result.trainer.step}`);
    const plot = await writeCurves(folder.dir, result.trainer.history);
    console.log(`wrote ${result.saved}, ${join(folder.dir, "metrics.jsonl")}, ${plot}`);
  });
}
