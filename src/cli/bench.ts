import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description("run the benchmark suite (GEMM rates, training steps against the GEMM floor)")
    .option("--only <names>", "workloads: gemm, mlp-lora, llama-lora, llama-dora")
    .option("--json", "one JSON line per workload")
    .option("--threads <n>", "threads for the native backend")
    .action((opts: { only?: string; json?: boolean; threads?: string }) => {
      const runner = fileURLToPath(new URL("../../bench/run.js", import.meta.url));
      if (!existsSync(runner))
        throw new Error(`the benchmark suite is not built (${runner}); run npm run build`);
      const args = [
        runner,
        ...(opts.only ? ["--only", opts.only] : []),
        ...(opts.json ? ["--json"] : []),
        ...(opts.threads ? ["--threads", opts.threads] : []),
      ];
      const r = spawnSync(process.execPath, args, { stdio: "inherit" });
      if (r.status !== 0) process.exitCode = r.status ?? 1;
    });
}
