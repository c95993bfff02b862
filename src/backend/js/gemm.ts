import type { FloatArray, GemmArgs } from "../backend.js";

// Block sizes chosen so a packed B panel (KB x NB doubles = 256 KiB) stays in L2 and the
// four accumulator rows in L1.
const KB = 128;
const NB = 256;
const MR = 4;

/** Cache-blocked GEMM in TypeScript: packs op(B) panels, then streams 4 rows of op(A) over them. */
export function gemm(args: GemmArgs): void {
  for (let b = 0; b < args.batch; b++) {
    gemmOne(args, args.offA + b * args.strideA, args.offB + b * args.strideB, args.offC + b * args.strideC);
  }
}

function gemmOne(g: GemmArgs, offA: number, offB: number, offC: number): void {
  const { m, n, k, a, b, c, transA, transB, alpha, beta } = g;
  if (beta === 0) c.fill(0, offC, offC + m * n);
  else if (beta !== 1) for (let i = offC; i < offC + m * n; i++) c[i] *= beta;
  if (k === 0 || alpha === 0) return;

  const panel = new Float64Array(KB * NB);
  const acc = new Float64Array(MR * NB);
  const aRows = new Float64Array(MR * KB);
  // A's element (i, p) of op(A) and B's element (p, j) of op(B).
  const aRowStride = transA ? 1 : k;
  const aColStride = transA ? m : 1;
  const bRowStride = transB ? 1 : n;
  const bColStride = transB ? k : 1;

  for (let j0 = 0; j0 < n; j0 += NB) {
    const nb = Math.min(NB, n - j0);
    for (let p0 = 0; p0 < k; p0 += KB) {
      const kb = Math.min(KB, k - p0);
      packPanel(b, offB, bRowStride, bColStride, p0, kb, j0, nb, panel);
      for (let i0 = 0; i0 < m; i0 += MR) {
        const mr = Math.min(MR, m - i0);
        for (let r = 0; r < mr; r++) {
          const base = offA + (i0 + r) * aRowStride + p0 * aColStride;
          for (let p = 0; p < kb; p++) aRows[r * KB + p] = alpha * a[base + p * aColStride];
        }
        acc.fill(0, 0, mr * NB);
        if (mr === MR) microKernel4(aRows, panel, acc, kb, nb);
        else microKernelRows(aRows, panel, acc, mr, kb, nb);
        for (let r = 0; r < mr; r++) {
          const crow = offC + (i0 + r) * n + j0;
          const arow = r * NB;
          for (let j = 0; j < nb; j++) c[crow + j] += acc[arow + j];
        }
      }
    }
  }
}

function packPanel(
  b: FloatArray,
  offB: number,
  rowStride: number,
  colStride: number,
  p0: number,
  kb: number,
  j0: number,
  nb: number,
  panel: Float64Array,
): void {
  for (let p = 0; p < kb; p++) {
    const src = offB + (p0 + p) * rowStride + j0 * colStride;
    const dst = p * nb;
    if (colStride === 1) for (let j = 0; j < nb; j++) panel[dst + j] = b[src + j];
    else for (let j = 0; j < nb; j++) panel[dst + j] = b[src + j * colStride];
  }
}

function microKernel4(
  aRows: Float64Array,
  panel: Float64Array,
  acc: Float64Array,
  kb: number,
  nb: number,
): void {
  for (let p = 0; p < kb; p++) {
    const a0 = aRows[p];
    const a1 = aRows[KB + p];
    const a2 = aRows[2 * KB + p];
    const a3 = aRows[3 * KB + p];
    const pb = p * nb;
    for (let j = 0; j < nb; j++) {
      const bv = panel[pb + j];
      acc[j] += a0 * bv;
      acc[NB + j] += a1 * bv;
      acc[2 * NB + j] += a2 * bv;
      acc[3 * NB + j] += a3 * bv;
    }
  }
}

function microKernelRows(
  aRows: Float64Array,
  panel: Float64Array,
  acc: Float64Array,
  mr: number,
  kb: number,
  nb: number,
): void {
  for (let r = 0; r < mr; r++) {
    for (let p = 0; p < kb; p++) {
      const av = aRows[r * KB + p];
      const pb = p * nb;
      const ar = r * NB;
      for (let j = 0; j < nb; j++) acc[ar + j] += av * panel[pb + j];
    }
  }
}
