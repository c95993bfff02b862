import Table from "cli-table3";
import type { Command } from "commander";
import { evalJob } from "../train/index.js";
import { addJobOptions, resolveOptions, toJobOptions } from "./job-options.js";
import { slowProgress } from "./progress.js";

export function registerEval(program: Command): void {
  const cmd = program
    .command("eval")
    .description(
      "evaluate a model (with --adapter) on a JSONL/CSV file: loss and perplexity, or accuracy and F1",
    );
  addJobOptions(cmd, { train: false })
    .option("--adapter <dir>", "adapter folder to apply")
    .option("--json", "print JSON")
    .action(async () => {
      const options = resolveOptions(cmd);
      const quiet = Boolean(options.quiet) || Boolean(options.json);
      const loading = slowProgress("load", { quiet, unit: "tensors" });
      const evaluating = slowProgress("eval", { quiet });
      const result = await evalJob(
        { ...toJobOptions(options), valRatio: 0, adapterDir: (options.adapter as string) ?? null },
        {
          onLoadTensor: (done, total) => loading.update(done, total),
          onEvalBatch: (done, total) => evaluating.update(done, total),
        },
      );
      if (options.json) {
        console.log(JSON.stringify(result));
        return;
      }
      const { confusion, labels, ...scores } = result;
      for (const [k, v] of Object.entries(scores)) console.log(`${k.padEnd(11)} ${v.toFixed(4)}`);
      if (confusion && labels) console.log(confusionTable(confusion, labels));
    });
}

/** The confusion matrix with its labels: a row per true label, a column per predicted one. */
function confusionTable(confusion: number[][], labels: string[]): string {
  const table = new Table({ head: ["true \\ predicted", ...labels] });
  confusion.forEach((row, i) => table.push([labels[i], ...row.map(String)]));
  return table.toString();
}
