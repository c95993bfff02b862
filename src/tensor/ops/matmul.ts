import { getBackend } from "../../backend/index.js";
import { record } from "../autograd.js";
import { broadcastShapes, broadcastStrides } from "../shape-utils.js";
import { empty, formatShape, shapeSize, Tensor } from "../tensor.js";
import { sumToShape } from "./reduce.js";
import { reshape } from "./shape.js";

export interface MatmulOptions {
  /** Use the transpose of a's last two axes (no copy is made). */
  transA?: boolean;
  /** Use the transpose of b's last two axes, e.g. x @ Wᵀ for a Linear weight [out, in]. */
  transB?: boolean;
}

/**
 * Batched matrix product over the last two axes; leading axes broadcast as in NumPy.
 * Both operands need at least two dimensions.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  if (a.ndim < 2 || b.ndim < 2) {
    throw new Error(
      `matmul: operands need 2+ dimensions, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  if (!a.isFloat || a.dtype !== b.dtype)
    throw new Error(`matmul: dtypes must be the same float (${a.dtype}, ${b.dtype})`);
  // A stack of rows times one matrix is one large GEMM: fold the batch axes into m.
  if (b.ndim === 2 && a.ndim > 2 && !transA) {
    const k = a.shape[a.ndim - 1];
    const out2 = matmul(reshape(a, [-1, k]), b, options);
    return reshape(out2, [...a.shape.slice(0, -1), out2.shape[1]]);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const kb = transB ? bc : br;
  const n = transB ? br : bc;
  if (k !== kb) {
    throw new Error(
      `matmul: inner dimensions differ: ${formatShape(a.shape)}${transA ? "ᵀ" : ""} @ ${formatShape(b.shape)}${transB ? "ᵀ" : ""}`,
    );
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcastShapes(batchA, batchB);
  const shape = [...batch, m, n];
  const out = new Tensor(empty(a.dtype, shapeSize(shape)), shape);
  gemmBatched(a, batchA, b, batchB, out, batch, transA, transB, m, n, k);

  // Each operand's gradient reads the other one: keep an operand only where the other trains.
  const keptA = b.requiresGrad ? a : null;
  const keptB = a.requiresGrad ? b : null;
  const [aShape, bShape] = [a.shape, b.shape];
  return record(out, "matmul", [a, b], (g) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (keptB) {
      // d op(A) = g @ op(B)ᵀ, laid out as A is stored.
      ga = transA
        ? matmul(keptB, g, { transA: transB, transB: true })
        : matmul(g, keptB, { transB: !transB });
      ga = sumToShape(ga, aShape);
    }
    if (keptA) {
      gb = transB
        ? matmul(g, keptA, { transA: true, transB: transA })
        : matmul(keptA, g, { transA: !transA });
      gb = sumToShape(gb, bShape);
    }
    return [ga, gb];
  });
}

function gemmBatched(
  a: Tensor,
  batchA: number[],
  b: Tensor,
  batchB: number[],
  out: Tensor,
  batch: number[],
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
): void {
  const count = shapeSize(batch);
  const base = {
    transA,
    transB,
    m,
    n,
    k,
    alpha: 1,
    beta: 0,
    a: a.floatData,
    b: b.floatData,
    c: out.floatData,
    strideC: m * n,
  };
  const sizeA = shapeSize(batchA);
  const sizeB = shapeSize(batchB);
  // One call when each operand is either fully batched or a single matrix.
  if ((sizeA === count || sizeA === 1) && (sizeB === count || sizeB === 1)) {
    getBackend().gemm({
      ...base,
      offA: 0,
      strideA: sizeA === 1 ? 0 : m * k,
      offB: 0,
      strideB: sizeB === 1 ? 0 : k * n,
      offC: 0,
      batch: count,
    });
    return;
  }
  const stA = broadcastStrides(batchA, batch);
  const stB = broadcastStrides(batchB, batch);
  const idx = new Array<number>(batch.length).fill(0);
  for (let i = 0; i < count; i++) {
    let rem = i;
    for (let d = batch.length - 1; d >= 0; d--) {
      idx[d] = rem % batch[d];
      rem = Math.floor(rem / batch[d]);
    }
    const ia = idx.reduce((s, v, d) => s + v * stA[d], 0);
    const ib = idx.reduce((s, v, d) => s + v * stB[d], 0);
    getBackend().gemm({
      ...base,
      offA: ia * m * k,
      strideA: 0,
      offB: ib * k * n,
      strideB: 0,
      offC: i * m * n,
      batch: 1,
    });
  }
}
