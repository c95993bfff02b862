import { spawnSync } from "node:child_process";
import { arch, cpus } from "node:os";
import { getBackend } from "../src/backend/index.js";
import { coretypeWarning, gemmLabel, nativeInfo, setNativeThreads } from "../src/backend/native.js";
import { countGemmFlops, medianMsBeside, peakRssMb } from "./measure.js";
import { type Clock, profileKernels } from "./profile.js";
import { gemmProduct, gemmWorkload } from "./workloads/gemm.js";
import { LLAMA_BENCH, llamaAdapterStep } from "./workloads/llama-adapter.js";
import { mlpLoraStep } from "./workloads/mlp-lora.js";
import { type RealShapeRun, realShapeStep } from "./workloads/real-shapes.js";

/** A benchmark: either plain figures, or a training step timed against the GEMM floor. */
type Workload =
  | { name: string; kind: "figures"; run: () => Record<string, number> }
  | { name: string; kind: "step"; make: () => () => void; steps: number; warmup: number; tokens?: number };

const workloads: Workload[] = [
  { name: "gemm", kind: "figures", run: gemmWorkload },
  // Warm-up lets the heap reach its steady size, so page faults of the first steps are not timed.
  { name: "mlp-lora", kind: "step", make: () => mlpLoraStep(), steps: 10, warmup: 3 },
  ...(["lora", "dora"] as const).map((m): Workload => ({
    name: `llama-${m}`,
    kind: "step",
    make: () => llamaAdapterStep(m),
    steps: 10,
    warmup: 3,
    tokens: LLAMA_BENCH.batch * LLAMA_BENCH.seq,
  })),
  // Published model shapes (docs/performance.md): several GB each and tens of seconds per step.
  // Base weights in bf16 as the published checkpoints store them; -f32 upcasts them.
  ...(
    [
      [
        "smollm2-135m-lora",
        { model: "smollm2-135m", batch: 4, seq: 512, gradCheckpoint: false, weights: "bf16" },
      ],
      [
        "smollm2-135m-lora-f32",
        { model: "smollm2-135m", batch: 4, seq: 512, gradCheckpoint: false, weights: "f32" },
      ],
      [
        "smollm2-135m-lora-ckpt",
        { model: "smollm2-135m", batch: 4, seq: 512, gradCheckpoint: true, weights: "bf16" },
      ],
      [
        "smollm2-135m-lora-2048",
        { model: "smollm2-135m", batch: 1, seq: 2048, gradCheckpoint: true, weights: "bf16" },
      ],
      [
        "qwen2.5-0.5b-lora",
        { model: "qwen2.5-0.5b", batch: 4, seq: 512, gradCheckpoint: true, weights: "bf16" },
      ],
    ] as [string, RealShapeRun][]
  ).map(([name, run]): Workload => ({
    name,
    kind: "step",
    make: () => realShapeStep(run),
    steps: 3,
    warmup: 1,
    tokens: run.batch * run.seq,
  })),
];

interface Args {
  json: boolean;
  only: Set<string> | null;
  threads: number | null;
  /** Also time each backend kernel over the timed steps (docs/performance.md, "Where a step goes"). */
  profile: Clock | null;
}

function parseArgs(argv: string[]): Args {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = value("--only");
  const threads = value("--threads");
  if (threads !== undefined && !(Number(threads) >= 1))
    throw new Error(`--threads expects a positive integer, got "${threads}"`);
  const names = new Set(workloads.map((w) => w.name));
  for (const n of only?.split(",") ?? []) {
    if (!names.has(n)) throw new Error(`--only: no workload "${n}" (workloads: ${[...names].join(", ")})`);
  }
  return {
    json: argv.includes("--json"),
    only: only ? new Set(only.split(",")) : null,
    threads: threads ? Number(threads) : null,
    profile: argv.includes("--profile-cpu") ? "cpu" : argv.includes("--profile") ? "wall" : null,
  };
}

/**
 * Peak RSS is per process, so with several workloads each one runs in a child process of its own
 * (`--only NAME`), and this process only passes their output on.
 */
function runEachInOwnProcess(names: string[], argv: string[]): void {
  const rest = argv.filter((a, i) => a !== "--only" && argv[i - 1] !== "--only");
  for (const [i, name] of names.entries()) {
    const args = [process.argv[1], ...rest, "--only", name, ...(i > 0 ? ["--no-context"] : [])];
    const child = spawnSync(process.execPath, args, { stdio: "inherit" });
    if (child.status !== 0) throw new Error(`workload ${name} failed (exit ${child.status})`);
  }
}

function main(): void {
  const argv = process.argv.slice(2);
  const { json, only, threads, profile } = parseArgs(argv);
  const selected = workloads.filter((w) => !only || only.has(w.name)).map((w) => w.name);
  if (selected.length > 1) {
    runEachInOwnProcess(selected, argv);
    return;
  }
  if (threads) setNativeThreads(threads);
  const warning = argv.includes("--no-context") ? null : coretypeWarning();
  if (warning) console.warn(warning);
  const info = nativeInfo();
  const native = getBackend().name === "native";
  const context = {
    backend: getBackend().name,
    threads: native ? (info?.threads ?? 1) : 1,
    blas: native ? (info?.blas ?? "none") : "none",
    gemm: native ? (info?.gemm ?? "-") : "typescript",
    coretype: getBackend().name === "native" ? info?.coretype || "-" : "-",
    machine: `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, ${arch()}`,
  };
  if (!json && !argv.includes("--no-context"))
    console.log(
      [native ? gemmLabel() : "BLAS: none (TypeScript backend)", ...Object.entries(context)]
        .map((e) => (typeof e === "string" ? e : `${e[0]}: ${e[1]}`))
        .join("\n"),
    );
  // The GEMM floor of a workload: its matmul FLOPs at the rate this process reaches at 1024³, timed
  // between the steps so that a change of machine load moves the step and its floor together.
  const cube = gemmProduct(1024, 1024, 1024);
  for (const w of workloads) {
    if (only && !only.has(w.name)) continue;
    let figures: Record<string, number>;
    if (w.kind === "figures") figures = w.run();
    else {
      const step = w.make();
      // The counted step is the first warm-up step.
      const flops = countGemmFlops(step);
      const { ms, besideMs: cubeMs } = medianMsBeside(step, cube.run, w.steps, w.warmup - 1);
      const floorMs = (flops / cube.flops) * cubeMs;
      figures = {
        ms_per_step: ms,
        ...(w.tokens ? { tokens_per_s: (w.tokens / ms) * 1000 } : {}),
        gemm_gflop: flops / 1e9,
        floor_ms: floorMs,
        time_over_floor: ms / floorMs,
      };
      if (profile)
        for (const [kernel, kernelMs] of Object.entries(profileKernels(step, w.steps, profile)))
          figures[`ms ${kernel}`] = kernelMs;
    }
    const row = { workload: w.name, ...figures, peak_rss_mb: peakRssMb(), ...context };
    if (json) console.log(JSON.stringify(row));
    else
      console.log(
        `\n${w.name}\n${Object.entries(figures)
          .map(([k, v]) => `  ${k.padEnd(36)} ${v.toFixed(2)}`)
          .join("\n")}\n  ${"peak_rss_mb".padEnd(36)} ${peakRssMb().toFixed(0)}`,
      );
  }
}

try {
  main();
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
}
