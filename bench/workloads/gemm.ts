import { type GemmArgs, getBackend } from "../../src/backend/index.js";
import { nativeInfo, setNativeGemm } from "../../src/backend/native.js";
import { medianMs } from "../measure.js";

/** One float32 product shape: batch × op(A)[m, k] · op(B)[k, n]. */
interface Shape {
  name: string;
  m: number;
  n: number;
  k: number;
  transB?: boolean;
  batch?: number;
}

// The shapes of docs/performance.md: cubes, the LoRA down and up projections at 4096 tokens, and
// one attention layer's scores (32 heads × 128 queries × 128 keys of 64 dims).
const SHAPES: Shape[] = [
  { name: "512^3", m: 512, n: 512, k: 512 },
  { name: "1024^3", m: 1024, n: 1024, k: 1024 },
  { name: "2048^3", m: 2048, n: 2048, k: 2048 },
  { name: "lora_down_4096x768@768x16", m: 4096, n: 16, k: 768 },
  { name: "lora_up_4096x16@16x768", m: 4096, n: 768, k: 16 },
  { name: "attention_32x128x128x64", m: 128, n: 128, k: 64, transB: true, batch: 32 },
];

/** A timed closure for one shape on the current backend, and its FLOPs per call. */
function product(s: Shape): { run: () => void; flops: number } {
  const batch = s.batch ?? 1;
  const a = new Float32Array(batch * s.m * s.k).map((_, i) => ((i * 7919) % 13) / 13 - 0.5);
  const b = new Float32Array(batch * s.k * s.n).map((_, i) => ((i * 104729) % 17) / 17 - 0.5);
  const c = new Float32Array(batch * s.m * s.n);
  const args: GemmArgs = {
    transA: false,
    transB: s.transB ?? false,
    m: s.m,
    n: s.n,
    k: s.k,
    alpha: 1,
    beta: 0,
    a,
    offA: 0,
    strideA: s.m * s.k,
    b,
    offB: 0,
    strideB: s.k * s.n,
    c,
    offC: 0,
    strideC: s.m * s.n,
    batch,
  };
  const backend = getBackend();
  return { run: () => backend.gemm(args), flops: 2 * batch * s.m * s.n * s.k };
}

/** One float32 product op(A)[m, k] · B[k, n] on the current backend and GEMM, and its FLOPs. */
export function gemmProduct(m: number, k: number, n: number): { run: () => void; flops: number } {
  return product({ name: "", m, n, k });
}

/**
 * GFLOP/s at every shape. With a BLAS linked, the BLAS and the built-in GEMM run side by side in
 * this process, alternating in rounds so both see the same machine load, and `builtin_over_blas`
 * is their ratio (the median of each round's ratio).
 */
export function gemmWorkload(): Record<string, number> {
  const info = getBackend().name === "native" ? nativeInfo() : null;
  const engines = info && info.blas !== "builtin" ? ["blas", "builtin"] : [null];
  // 2048³ takes minutes on the TypeScript backend.
  const shapes = info ? SHAPES : SHAPES.filter((s) => s.m * s.n * s.k < 2048 ** 3);
  const initial = info?.gemm;
  const out: Record<string, number> = {};
  try {
    for (const s of shapes) {
      const { run, flops } = product(s);
      const rounds = flops >= 2 * 2048 ** 3 ? 3 : 7;
      const rates = engines.map(() => [] as number[]);
      for (let r = 0; r < rounds; r++) {
        engines.forEach((e, i) => {
          if (e) setNativeGemm(e);
          rates[i].push(flops / (medianMs(run, 3, r === 0 ? 1 : 0) / 1000) / 1e9);
        });
      }
      const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
      engines.forEach((e, i) => (out[`gflops_${s.name}${e ? `_${e}` : ""}`] = median(rates[i])));
      if (engines.length === 2)
        out[`builtin_over_blas_${s.name}`] = median(rates[1].map((x, i) => x / rates[0][i]));
    }
  } finally {
    if (initial) setNativeGemm(initial);
  }
  return out;
}
