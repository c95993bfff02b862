import { type FloatArray, type GemmArgs, getBackend } from "../../backend/index.js";
import { record } from "../autograd.js";
import { allocate, empty, formatShape, Tensor } from "../tensor.js";
import { weightGemm } from "./half-gemm.js";

export interface LinearCrossEntropyOptions {
  /** Targets equal to this add no loss and are left out of the mean (PyTorch default -100). */
  ignoreIndex?: number;
  /** Rows of logits formed at a time; default: as many as fit in about 16 M floats (64 MB). */
  chunkRows?: number;
}

const CHUNK_FLOATS = 1 << 24;

type Gemm = Pick<GemmArgs, "transA" | "transB" | "m" | "n" | "k" | "beta" | "a" | "b" | "c"> &
  Partial<Pick<GemmArgs, "offA" | "offC">>;

function gemm(g: Gemm): void {
  getBackend().gemm({
    alpha: 1,
    offA: 0,
    offB: 0,
    offC: 0,
    strideA: 0,
    strideB: 0,
    strideC: 0,
    batch: 1,
    ...g,
  });
}

/**
 * The head's float32 values for one pass over the row chunks: a bfloat16/float16 head (a frozen tied
 * embedding) is decoded once per pass instead of once in every chunk's GEMM, which for a
 * vocabulary-sized matrix cost more than the products (docs/memory.md).
 */
function floatHead(weight: Tensor): Tensor {
  return weight.half ? weight.to("float32") : weight;
}

/**
 * Mean cross-entropy of the logits hidden · weightᵀ ([N, D] · [V, D]ᵀ) against int32 targets [N],
 * without ever holding the [N, V] logits: rows go through in chunks, the forward keeps only each
 * row's log-sum-exp, and the backward forms each chunk's logits and their gradient again (one
 * extra GEMM per chunk) to get the gradients of hidden and, when it trains, of weight. The result
 * equals crossEntropy(linear(hidden, weight), targets) (docs/memory.md).
 */
export function linearCrossEntropy(
  hidden: Tensor,
  weight: Tensor,
  targets: Tensor,
  options: LinearCrossEntropyOptions = {},
): Tensor {
  const ignoreIndex = options.ignoreIndex ?? -100;
  const [vocab, dim] = weight.shape;
  if (hidden.ndim !== 2 || weight.ndim !== 2 || hidden.shape[1] !== dim)
    throw new Error(
      `linearCrossEntropy: hidden ${formatShape(hidden.shape)} does not fit head weight ${formatShape(weight.shape)}`,
    );
  const rows = hidden.shape[0];
  if (targets.dtype !== "int32" || targets.size !== rows)
    throw new Error(
      `linearCrossEntropy: targets must be int32 of ${rows} elements, got ${targets.dtype} ${formatShape(targets.shape)}`,
    );
  if (hidden.dtype !== weight.dtype)
    throw new Error(`linearCrossEntropy: dtypes differ (${hidden.dtype}, ${weight.dtype})`);
  const chunk = Math.max(1, Math.min(rows, options.chunkRows ?? Math.floor(CHUNK_FLOATS / vocab)));
  const tgt = targets.data as Int32Array;
  const h = hidden.floatData;
  const be = getBackend();
  const logits = empty(hidden.dtype, chunk * vocab) as FloatArray;
  const lse = empty(hidden.dtype, rows) as FloatArray;
  const perRow = empty(hidden.dtype, rows) as FloatArray;
  const chunkLogits = (head: Tensor, r0: number, n: number): FloatArray => {
    const c = logits.subarray(0, n * vocab);
    weightGemm({ transB: true, m: n, n: vocab, k: dim, beta: 0, a: h, offA: r0 * dim, w: head, c });
    return c;
  };
  const forwardHead = floatHead(weight);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    const c = chunkLogits(forwardHead, r0, n);
    be.crossEntropy(
      c,
      tgt.subarray(r0, r0 + n),
      n,
      vocab,
      ignoreIndex,
      0,
      perRow.subarray(r0),
      lse.subarray(r0),
    );
  }
  let count = 0;
  for (const t of tgt) if (t !== ignoreIndex) count++;
  let sum = 0;
  for (const v of perRow) sum += v;
  const out = new Tensor(allocate(hidden.dtype, 1).fill(sum / count), []);

  return record(out, "linearCrossEntropy", [hidden, weight], (g) => {
    const gRows = allocate(hidden.dtype, chunk).fill(g.item() / count) as FloatArray;
    const gLogits = empty(hidden.dtype, chunk * vocab) as FloatArray;
    const gh = hidden.requiresGrad ? new Tensor(empty(hidden.dtype, hidden.size), hidden.shape) : null;
    const gw = weight.requiresGrad ? new Tensor(empty(weight.dtype, weight.size), weight.shape) : null;
    const head = floatHead(weight);
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const n = Math.min(chunk, rows - r0);
      const c = chunkLogits(head, r0, n);
      const gc = gLogits.subarray(0, n * vocab);
      const t = tgt.subarray(r0, r0 + n);
      be.crossEntropyGrad(c, t, lse.subarray(r0), gRows, n, vocab, ignoreIndex, 0, gc);
      if (gh)
        weightGemm({
          transB: false,
          m: n,
          n: dim,
          k: vocab,
          beta: 0,
          a: gc,
          w: head,
          c: gh.floatData,
          offC: r0 * dim,
        });
      if (gw)
        gemm({
          transA: true,
          transB: false,
          m: vocab,
          n: dim,
          k: n,
          beta: r0 === 0 ? 0 : 1,
          a: gc,
          b: h.subarray(r0 * dim, (r0 + n) * dim),
          c: gw.floatData,
        });
    }
    return [gh, gw];
  });
}
