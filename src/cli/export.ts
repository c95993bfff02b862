import type { Command } from "commander";
import { EXPORT_DTYPES, type ExportDType, exportGgufLora, exportGgufModel } from "../export/index.js";

interface ExportFlags {
  model?: string;
  adapter?: string;
  base?: string;
  out: string;
  dtype: string;
  tokenizerPre?: string;
}

export function registerExport(program: Command): void {
  program
    .command("export")
    .description(
      "write a GGUF file for llama.cpp: --model DIR [--adapter DIR] a whole model (the adapter merged in), or --adapter DIR alone a GGUF LoRA",
    )
    .option("--model <dir>", "HuggingFace model folder to export (Llama, Qwen2, Mistral, GPT-2)")
    .option(
      "--adapter <dir>",
      "adapter folder: merged into --model, or written alone as a GGUF LoRA (plain LoRA)",
    )
    .option("--base <dir>", "GGUF LoRA: the adapter's base model (default: its base_model_name_or_path)")
    .requiredOption("--out <file>", "the .gguf file to write")
    .option(
      "--dtype <type>",
      `tensor type of the weight matrices: ${EXPORT_DTYPES.join(", ")} (norms stay f32)`,
      "f32",
    )
    .option("--tokenizer-pre <name>", "llama.cpp pre-tokenizer name, if tokenizer.json's is not recognised")
    .action((opts: ExportFlags) => {
      if (!EXPORT_DTYPES.includes(opts.dtype as ExportDType))
        throw new Error(`--dtype expects one of ${EXPORT_DTYPES.join(", ")}, got "${opts.dtype}"`);
      const started = performance.now();
      const secs = (): string => ((performance.now() - started) / 1000).toFixed(1);
      if (opts.model) {
        if (opts.base)
          throw new Error(
            "--base goes with --adapter alone (a GGUF LoRA); with --model the adapter is merged into that model",
          );
        const r = exportGgufModel(opts.model, opts.out, {
          adapter: opts.adapter,
          dtype: opts.dtype as ExportDType,
          tokenizerPre: opts.tokenizerPre,
        });
        const merged = r.mergedModules.length ? `, ${r.mergedModules.length} adapted modules merged` : "";
        console.log(
          `wrote ${opts.out}: GGUF ${r.arch}, ${r.tensors} tensors, ${opts.dtype}${merged}, in ${secs()} s`,
        );
      } else if (opts.adapter) {
        if (opts.dtype !== "f32" || opts.tokenizerPre)
          throw new Error(
            "--dtype and --tokenizer-pre apply to a model export (--model); a GGUF LoRA is f32",
          );
        const r = exportGgufLora(opts.adapter, opts.out, { base: opts.base });
        console.log(
          `wrote ${opts.out}: GGUF LoRA for ${r.arch} (base ${r.base}), ${r.modules} modules, alpha ${r.alpha}, in ${secs()} s`,
        );
      } else
        throw new Error(
          "export needs --model DIR (a model, optionally with --adapter) or --adapter DIR (a GGUF LoRA)",
        );
    });
}
