import { type Backend, getBackend, setBackend, registerBackend } from "../src/backend/index.js";

/** Median milliseconds of `steps` timed calls after `warmup` untimed ones. */
export function medianMs(fn: () => void, steps: number, warmup = 1): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** GEMM FLOPs (2·m·n·k per product) of one run of fn, counted at the backend. */
export function countGemmFlops(fn: () => void): number {
  const inner = getBackend();
  let flops = 0;
  const counting: Backend = {
    ...inner,
    name: `${inner.name}+count`,
    gemm: (g) => {
      flops += 2 * g.m * g.n * g.k * g.batch;
      inner.gemm(g);
    },
  };
  registerBackend(counting);
  setBackend(counting.name);
  try {
    fn();
  } finally {
    setBackend(inner.name);
  }
  return flops;
}

/** Peak resident memory of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
