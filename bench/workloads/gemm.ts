import { getBackend } from "../../src/backend/index.js";
import { medianMs } from "../measure.js";

/** GFLOP/s of one float32 product op(A)[m, k] · B[k, n] on the current backend. */
export function gemmGflops(m: number, k: number, n: number, steps = 5): number {
  const a = new Float32Array(m * k).map((_, i) => ((i * 7919) % 13) / 13 - 0.5);
  const b = new Float32Array(k * n).map((_, i) => ((i * 104729) % 17) / 17 - 0.5);
  const c = new Float32Array(m * n);
  const backend = getBackend();
  const run = (): void =>
    backend.gemm({
      transA: false,
      transB: false,
      m,
      n,
      k,
      alpha: 1,
      beta: 0,
      a,
      offA: 0,
      strideA: 0,
      b,
      offB: 0,
      strideB: 0,
      c,
      offC: 0,
      strideC: 0,
      batch: 1,
    });
  return (2 * m * n * k) / (medianMs(run, steps) / 1000) / 1e9;
}

export function gemmWorkload(): Record<string, number> {
  // 2048³ takes minutes on the TypeScript backend.
  const big: Record<string, number> =
    getBackend().name === "js" ? {} : { "gflops_2048^3": gemmGflops(2048, 2048, 2048, 3) };
  return {
    "gflops_512^3": gemmGflops(512, 512, 512),
    "gflops_1024^3": gemmGflops(1024, 1024, 1024),
    ...big,
    "gflops_lora_down_4096x768@768x16": gemmGflops(4096, 768, 16),
    "gflops_lora_up_4096x16@16x768": gemmGflops(4096, 16, 768),
  };
}
