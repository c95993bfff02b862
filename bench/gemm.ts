import { type FloatArray, getBackend } from "../src/backend/index.js";

/** Median seconds of `reps` timed calls after one warm-up. */
export function medianSeconds(fn: () => void, reps: number): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** GFLOP/s of C = A·B for float32 A [m, k], B [k, n] on the current backend. */
export function gemmGflops(m: number, k: number, n: number, reps: number): number {
  const a: FloatArray = new Float32Array(m * k).map((_, i) => ((i * 7919) % 13) / 13 - 0.5);
  const b: FloatArray = new Float32Array(k * n).map((_, i) => ((i * 104729) % 17) / 17 - 0.5);
  const c: FloatArray = new Float32Array(m * n);
  const backend = getBackend();
  const secs = medianSeconds(
    () =>
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
      }),
    reps,
  );
  return (2 * m * n * k) / secs / 1e9;
}
