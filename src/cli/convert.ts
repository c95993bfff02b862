import type { Command } from "commander";
import { convertToLora } from "../export/index.js";
import { positiveInt } from "./args.js";

interface ConvertFlags {
  adapter: string;
  to: string;
  rank: number;
  out: string;
  base?: string;
}

export function registerConvert(program: Command): void {
  program
    .command("convert")
    .description(
      "turn an adapter of any method into a plain LoRA of rank R (truncated SVD of each module's ΔW)",
    )
    .requiredOption("--adapter <dir>", "adapter folder of any method")
    .requiredOption("--to <format>", "target format: lora")
    .requiredOption("--rank <r>", "rank of the LoRA written", positiveInt("--rank"))
    .requiredOption("--out <dir>", "output adapter folder (PEFT LORA)")
    .option("--base <dir>", "the adapter's base model (default: its base_model_name_or_path)")
    .action((opts: ConvertFlags) => {
      if (opts.to !== "lora") throw new Error(`--to expects "lora", got "${opts.to}"`);
      const r = convertToLora(opts.adapter, opts.out, { rank: opts.rank, base: opts.base });
      for (const { module, relativeError } of r.errors)
        console.log(`${module}: relative error ${relativeError.toExponential(2)}`);
      const worst = Math.max(...r.errors.map((e) => e.relativeError));
      console.log(
        `wrote ${opts.out}: LoRA r = ${opts.rank} on ${r.errors.length} modules (base ${r.base}); worst relative error ${worst.toExponential(2)}`,
      );
    });
}
