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
  return median(times);
}

/**
 * Median milliseconds of `fn` and of `beside`, timed alternately (one call of each per round, after
 * `warmup` untimed rounds), so that both medians see the same machine load.
 */
export function medianMsBeside(
  fn: () => void,
  beside: () => void,
  steps: number,
  warmup = 1,
): { ms: number; besideMs: number } {
  for (let i = 0; i < warmup; i++) fn();
  beside();
  const times: number[] = [];
  const besideTimes: number[] = [];
  for (let i = 0; i < steps; i++) {
    for (const [f, into] of [
      [fn, times],
      [beside, besideTimes],
    ] as const) {
      const t0 = performance.now();
      f();
      into.push(performance.now() - t0);
    }
  }
  return { ms: median(times), besideMs: median(besideTimes) };
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
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
