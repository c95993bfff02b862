import { type FloatArray, type GemmArgs, getBackend } from "../../backend/index.js";
import { isGradEnabled, record } from "../autograd.js";
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
 * Mean cross-entropy of the logits hidden · weightᵀ ([N, D] · [V, D]ᵀ) against int32 targets [N],
 * without ever holding the [N, V] logits: rows go through in chunks, and while a chunk's logits are
 * at hand their gradient is formed too and multiplied into the gradients of hidden and, when it
 * trains, of weight, for an output gradient of 1; the backward only scales them. So the logits are
 * formed once, not again in the backward, and the op keeps [N, D] (and [V, D] for a training head)
 * instead of its inputs. The result equals crossEntropy(linear(hidden, weight), targets)
 * (docs/memory.md).
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
  let count = 0;
  for (const t of tgt) if (t !== ignoreIndex) count++;
  // The gradients are formed beside the loss, for an output gradient of 1, and scaled in the backward.
  const grad = isGradEnabled();
  const gh = grad && hidden.requiresGrad ? (empty(hidden.dtype, hidden.size) as FloatArray) : null;
  const gw = grad && weight.requiresGrad ? (empty(weight.dtype, weight.size) as FloatArray) : null;
  const gRows = allocate(hidden.dtype, chunk).fill(1 / count) as FloatArray;
  const logits = empty(hidden.dtype, chunk * vocab) as FloatArray;
  const gLogits = gh || gw ? (empty(hidden.dtype, chunk * vocab) as FloatArray) : null;
  const lse = empty(hidden.dtype, rows) as FloatArray;
  const perRow = empty(hidden.dtype, rows) as FloatArray;
  // A half head (a frozen tied embedding) is decoded once a step, not in every chunk's GEMM,
  // which for a vocabulary-sized matrix cost more than the products (docs/memory.md).
  const head = weight.half ? weight.to("float32") : weight;
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(chunk, rows - r0);
    const c = logits.subarray(0, n * vocab);
    weightGemm({ transB: true, m: n, n: vocab, k: dim, beta: 0, a: h, offA: r0 * dim, w: head, c });
    const t = tgt.subarray(r0, r0 + n);
    be.crossEntropy(c, t, n, vocab, ignoreIndex, 0, perRow.subarray(r0), lse.subarray(r0));
    if (!gLogits) continue;
    const gc = gLogits.subarray(0, n * vocab);
    be.crossEntropyGrad(c, t, lse.subarray(r0), gRows, n, vocab, ignoreIndex, 0, gc);
    if (gh)
      weightGemm({ transB: false, m: n, n: dim, k: vocab, beta: 0, a: gc, w: head, c: gh, offC: r0 * dim });
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
        c: gw,
      });
  }
  let sum = 0;
  for (const v of perRow) sum += v;
  const out = new Tensor(allocate(hidden.dtype, 1).fill(sum / count), []);
  const [hShape, wShape] = [hidden.shape, weight.shape];

  return record(out, "linearCrossEntropy", [hidden, weight], (g) => {
    const scale = g.item();
    const scaled = (x: FloatArray | null, shape: readonly number[]): Tensor | null => {
      if (!x) return null;
      if (scale !== 1) be.unary("mul_scalar", x, x, scale);
      return new Tensor(x, shape);
    };
    return [scaled(gh, hShape), scaled(gw, wShape)];
  });
}
