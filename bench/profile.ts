import {
  type Backend,
  type GemmArgs,
  getBackend,
  registerBackend,
  setBackend,
} from "../src/backend/index.js";

/**
 * The kernel a backend call is filed under: the method, with the op for the elementwise kernels
 * and, for GEMMs, whether one dimension is a low rank (≤ 16: LoRA's products, memory-bound).
 */
function label(method: string, args: unknown[]): string {
  if (method === "binary" || method === "unary" || method === "unaryGrad")
    return `${method} ${String(args[0])}`;
  if (method === "gemm") {
    const g = args[0] as GemmArgs;
    return Math.min(g.m, g.n, g.k) <= 16 ? "gemm (a dimension ≤ 16)" : "gemm";
  }
  return method;
}

/** Milliseconds of wall time, or of this process's CPU time (all its threads). */
export type Clock = "wall" | "cpu";

function clockNow(clock: Clock): () => number {
  if (clock === "wall") return () => performance.now();
  return () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
}

/**
 * Milliseconds per run of fn spent in each backend kernel (summed over `runs` runs, divided by
 * runs), and "outside the kernels": the rest (autograd, allocation of new tensors, garbage
 * collection, JavaScript). Kernels are synchronous, so the clock around each call is its cost.
 * CPU time counts every thread of the process (with one thread, it is what a kernel costs
 * whatever else the machine runs; garbage collection's helper threads land outside the kernels).
 */
export function profileKernels(fn: () => void, runs: number, clock: Clock = "wall"): Record<string, number> {
  const now = clockNow(clock);
  const inner = getBackend();
  const ms = new Map<string, number>();
  const timed = Object.fromEntries(
    Object.entries(inner).map(([method, kernel]) => {
      if (typeof kernel !== "function") return [method, kernel];
      const call = kernel as (...a: unknown[]) => void;
      return [
        method,
        (...args: unknown[]) => {
          const t0 = now();
          call(...args);
          const key = label(method, args);
          ms.set(key, (ms.get(key) ?? 0) + now() - t0);
        },
      ];
    }),
  ) as unknown as Backend;
  registerBackend({ ...timed, name: `${inner.name}+profile` });
  setBackend(`${inner.name}+profile`);
  const t0 = now();
  try {
    for (let i = 0; i < runs; i++) fn();
  } finally {
    setBackend(inner.name);
  }
  const total = now() - t0;
  const kernels = [...ms.values()].reduce((a, b) => a + b, 0);
  const rows = [...ms.entries(), ["outside the kernels", total - kernels] as const].sort(
    (a, b) => b[1] - a[1],
  );
  return Object.fromEntries(rows.map(([k, v]) => [k, v / runs]));
}
