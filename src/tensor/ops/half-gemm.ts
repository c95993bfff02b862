import { type FloatArray, getBackend } from "../../backend/index.js";
import { decodeHalf } from "../half.js";
import { empty, type HalfStorage, type Tensor } from "../tensor.js";

// Float32 values of a half weight converted at a time: 8 M (32 MB), so that every layer matrix of
// the models in docs/performance.md is one panel and only vocabulary-sized ones are split.
const PANEL_FLOATS = 1 << 23;

export interface WeightGemm {
  /** op(W) = Wᵀ (W stored [n, k]) or W (stored [k, n]). */
  transB: boolean;
  m: number;
  n: number;
  k: number;
  /** 0 writes C; 1 adds to it. */
  beta: 0 | 1;
  a: FloatArray;
  offA?: number;
  w: Tensor;
  c: FloatArray;
  offC?: number;
}

function plain(g: WeightGemm, b: FloatArray, n: number, c: FloatArray, offC: number, beta: 0 | 1): void {
  getBackend().gemm({
    transA: false,
    transB: g.transB,
    m: g.m,
    n,
    k: g.k,
    alpha: 1,
    beta,
    a: g.a,
    offA: g.offA ?? 0,
    strideA: 0,
    b,
    offB: 0,
    strideB: 0,
    c,
    offC,
    strideC: 0,
    batch: 1,
  });
}

/**
 * C [m, n] = A [m, k] · op(W) (+ C), with W a weight that may be stored as bfloat16/float16
 * (docs/memory.md): its float32 values are made a panel of output columns at a time (rows of W
 * stored [n, k], column blocks of W stored [k, n]) and go through the backend's GEMM, so every
 * output is the same full-length dot product as with a float32 W. With one panel (a matrix of up
 * to 8 M values) the call is the very GEMM of the float32 W, so the result is bitwise the same;
 * over several panels a BLAS may round differently at the edges of its blocks.
 */
export function weightGemm(g: WeightGemm): void {
  const { w, m, n, k, transB } = g;
  const offC = g.offC ?? 0;
  if (!w.half) return plain(g, w.floatData, n, g.c, offC, g.beta);
  const words = w.data as HalfStorage;
  const cols = Math.max(1, Math.min(n, Math.floor(PANEL_FLOATS / k)));
  const panel = empty("float32", cols * k) as Float32Array;
  const whole = cols === n;
  const out = whole ? g.c : (empty("float32", m * cols) as Float32Array);
  for (let p0 = 0; p0 < n; p0 += cols) {
    const np = Math.min(cols, n - p0);
    if (transB) decodeHalf(w.half, words, p0 * k, np * k, panel, 0);
    else for (let r = 0; r < k; r++) decodeHalf(w.half, words, r * n + p0, np, panel, r * np);
    if (whole) {
      plain(g, panel, np, out, offC, g.beta);
      continue;
    }
    // With beta = 1 the panel starts from C's values, so the sums run as in one GEMM over C.
    if (g.beta === 1) getBackend().copyStrided(g.c, offC + p0, [n, 1], out, 0, [np, 1], [m, np], false);
    plain(g, panel, np, out, 0, g.beta);
    getBackend().copyStrided(out, 0, [np, 1], g.c, offC + p0, [n, 1], [m, np], false);
  }
}
