import { Matrix, QrDecomposition, SingularValueDecomposition } from "ml-matrix";
import { Generator } from "../tensor/index.js";

/** B [m, rank] and A [rank, n] with B·A the best rank-`rank` approximation found of M. */
export interface LowRank {
  b: Float64Array;
  a: Float64Array;
  rank: number;
  /** ‖M − B·A‖_F / ‖M‖_F (0 for a zero M). */
  relativeError: number;
}

const orthonormal = (y: Matrix): Matrix =>
  new QrDecomposition(y).orthogonalMatrix.subMatrix(0, y.rows - 1, 0, y.columns - 1);

/**
 * Truncated SVD of an m×n matrix (row-major) by the randomized range finder of Halko, Martinsson
 * and Tropp (2011, algorithm 4.4): Q spans M·Ω for a Gaussian Ω with `rank + 10` columns after two
 * power iterations, and the exact SVD of the small QᵀM (ml-matrix) gives the factors. When M's
 * rank is at most that many columns the range is captured exactly, so the result is exact up to
 * rounding. The singular values are split evenly: B = U√S, A = √S Vᵀ.
 */
export function truncatedSvd(data: ArrayLike<number>, m: number, n: number, rank: number, seed = 0): LowRank {
  const matrix = new Matrix(
    Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => data[i * n + j])),
  );
  const k = Math.min(rank + 10, m, n);
  const rng = new Generator(seed);
  const omega = new Matrix(
    Array.from({ length: n }, () => Array.from({ length: k }, () => rng.normal(0, 1))),
  );
  let q = orthonormal(matrix.mmul(omega));
  for (let it = 0; it < 2; it++) q = orthonormal(matrix.mmul(orthonormal(matrix.transpose().mmul(q))));
  const small = new SingularValueDecomposition(q.transpose().mmul(matrix), { autoTranspose: true });
  const r = Math.min(rank, k);
  const u = q.mmul(small.leftSingularVectors);
  const v = small.rightSingularVectors;
  const s = small.diagonal;
  const b = new Float64Array(m * rank);
  const a = new Float64Array(rank * n);
  for (let c = 0; c < r; c++) {
    const root = Math.sqrt(s[c]);
    for (let i = 0; i < m; i++) b[i * rank + c] = u.get(i, c) * root;
    for (let j = 0; j < n; j++) a[c * n + j] = v.get(j, c) * root;
  }
  let err = 0;
  let norm = 0;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let x = 0;
      for (let c = 0; c < r; c++) x += b[i * rank + c] * a[c * n + j];
      const w = data[i * n + j];
      err += (w - x) ** 2;
      norm += w * w;
    }
  return { b, a, rank, relativeError: norm ? Math.sqrt(err / norm) : 0 };
}
