import type { Command } from "commander";
import { mergeAdapterFolder } from "../adapters/index.js";
import { joinPath, readJsonFile, writeJsonFile } from "../io/index.js";
import { sequenceClassifierFields } from "../models/index.js";
import { positiveInt } from "./args.js";

export function registerMerge(program: Command): void {
  program
    .command("merge")
    .description(
      "fold an adapter into a checkpoint: writes OUT/model.safetensors plus the base's config and tokenizer files",
    )
    .requiredOption("--base <dir>", "base model folder (model.safetensors or a sharded index)")
    .requiredOption("--adapter <dir>", "adapter folder (adapter_config.json, adapter_model.safetensors)")
    .requiredOption("--out <dir>", "output folder (never the base folder)")
    .option("--rank <k>", "DyLoRA: the rank to merge at (default: the adapter's)", positiveInt("--rank"))
    .option(
      "--labels <a,b>",
      "a classification head's class names in order (default: LABEL_0, LABEL_1, …)",
      (v) => v.split(","),
    )
    .action((opts: { base: string; adapter: string; out: string; rank?: number; labels?: string[] }) => {
      const started = performance.now();
      const result = mergeAdapterFolder(opts.base, opts.adapter, opts.out, { rank: opts.rank });
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`merged ${result.modules.length} modules into ${result.outFile} in ${secs} s`);
      if (result.copied.length) console.log(`copied ${result.copied.join(", ")}`);
      if (result.heads.size) {
        // A head trained on a causal LM: the merged folder is its sequence classifier.
        const rows = [...result.heads.values()].find((shape) => shape.length === 2)?.[0] ?? 0;
        const labels = opts.labels ?? Array.from({ length: rows }, (_, i) => `LABEL_${i}`);
        if (labels.length !== rows)
          throw new Error(`--labels names ${labels.length} labels; the adapter's head has ${rows}`);
        const file = joinPath(opts.out, "config.json");
        const json = readJsonFile(file) as Record<string, unknown>;
        writeJsonFile(file, { ...json, ...sequenceClassifierFields(json, labels, file) });
        console.log(`added ${[...result.heads.keys()].join(", ")}; ${file} now describes the classifier`);
      }
    });
}
