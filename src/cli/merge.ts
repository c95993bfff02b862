import type { Command } from "commander";
import { mergeAdapterFolder } from "../adapters/index.js";
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
    .action((opts: { base: string; adapter: string; out: string; rank?: number }) => {
      const started = performance.now();
      const result = mergeAdapterFolder(opts.base, opts.adapter, opts.out, { rank: opts.rank });
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`merged ${result.modules.length} modules into ${result.outFile} in ${secs} s`);
      if (result.copied.length) console.log(`copied ${result.copied.join(", ")}`);
    });
}
