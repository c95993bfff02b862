import { type FloatArray, type GemmArgs, getBackend } from "../../backend/index.js";
import { record } from "../autograd.js";
import { empty, formatShape, Tensor } from "../tensor.js";
import { weightGemm } from "./half-gemm.js";

/** A low-rank term scale · (x Aᵀ) Bᵀ added to a linear map: LoRA's update, A [r, in], B [out, r]. */
export interface LowRankTerm {
  a: Tensor;
  b: Tensor;
  scale: number;
}

export interface LinearOptions {
  bias?: Tensor | null;
  lowRank?: LowRankTerm | null;
  /** "out-in" for nn.Linear's weight [out, in] (the default); "in-out" for GPT-2's Conv1D [in, out]. */
  layout?: "out-in" | "in-out";
}

type Gemm = Omit<GemmArgs, "offA" | "offB" | "offC" | "strideA" | "strideB" | "strideC" | "batch">;

function gemm(g: Gemm): void {
  getBackend().gemm({ ...g, offA: 0, offB: 0, offC: 0, strideA: 0, strideB: 0, strideC: 0, batch: 1 });
}

function zeros(like: Tensor): Tensor {
  return new Tensor(like.floatData.slice().fill(0), like.shape);
}

/**
 * y = x Wᵀ + b + scale · (x Aᵀ) Bᵀ as one op: the bias seeds the output and both products
 * accumulate into it, so no full-size temporary is made; the backward works the same way.
 * W may be a frozen bfloat16/float16 weight (weightGemm).
 * x is [..., in]; the result is [..., out].
 */
export function linear(x: Tensor, weight: Tensor, options: LinearOptions = {}): Tensor {
  const { bias = null, lowRank = null, layout = "out-in" } = options;
  const outer = layout === "out-in";
  const [outF, inF] = outer ? weight.shape : [weight.shape[1], weight.shape[0]];
  const k = x.shape[x.ndim - 1];
  if (weight.ndim !== 2 || k !== inF) {
    throw new Error(
      `linear: input ${formatShape(x.shape)} does not fit weight ${formatShape(weight.shape)} (${layout})`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
    throw new Error(`linear: bias ${formatShape(bias.shape)} does not fit ${outF} outputs`);
  }
  const r = lowRank ? lowRank.a.shape[0] : 0;
  if (lowRank && (lowRank.a.shape[1] !== inF || lowRank.b.shape[0] !== outF || lowRank.b.shape[1] !== r)) {
    throw new Error(
      `linear: low-rank factors ${formatShape(lowRank.a.shape)} and ${formatShape(lowRank.b.shape)} do not fit ${inF} -> ${outF}`,
    );
  }
  const n = x.size / inF;
  const xd = x.floatData;
  const out = new Tensor(empty(x.dtype, n * outF), [...x.shape.slice(0, -1), outF]);
  const od = out.floatData;
  if (bias) getBackend().copyStrided(bias.floatData, 0, [0, 1], od, 0, [outF, 1], [n, outF], false);
  weightGemm({ transB: outer, m: n, n: outF, k: inF, beta: bias ? 1 : 0, a: xd, w: weight, c: od });
  let xa: FloatArray | null = null;
  if (lowRank) {
    xa = empty(x.dtype, n * r) as FloatArray;
    gemm({
      transA: false,
      transB: true,
      m: n,
      n: r,
      k: inF,
      alpha: 1,
      beta: 0,
      a: xd,
      b: lowRank.a.floatData,
      c: xa,
    });
    gemm({
      transA: false,
      transB: true,
      m: n,
      n: outF,
      k: r,
      alpha: lowRank.scale,
      beta: 1,
      a: xa,
      b: lowRank.b.floatData,
      c: od,
    });
  }
  const inputs = [x, weight, ...(bias ? [bias] : []), ...(lowRank ? [lowRank.a, lowRank.b] : [])];
  // What the backward reads, and no more (docs/memory.md): x only for the gradients of W and A,
  // x Aᵀ only for B's; a frozen layer without a low-rank term keeps nothing of its input.
  const needX = x.requiresGrad;
  const trainW = weight.requiresGrad;
  const trainBias = bias?.requiresGrad ?? false;
  const trainA = lowRank?.a.requiresGrad ?? false;
  const trainB = lowRank?.b.requiresGrad ?? false;
  const savedX = trainW || trainA ? xd : null;
  const savedXa = trainB ? xa : null;
  const { dtype, shape: xShape, size: xSize } = x;
  return record(out, "linear", inputs, (grad) => {
    const g = grad.floatData;
    // Through the low-rank path: gxa = scale · g B, [n, r].
    let gxa: FloatArray | null = null;
    if (lowRank && (needX || trainA)) {
      gxa = empty(dtype, n * r) as FloatArray;
      gemm({
        transA: false,
        transB: false,
        m: n,
        n: r,
        k: outF,
        alpha: lowRank.scale,
        beta: 0,
        a: g,
        b: lowRank.b.floatData,
        c: gxa,
      });
    }
    let gx: Tensor | null = null;
    if (needX) {
      gx = new Tensor(empty(dtype, xSize), xShape);
      weightGemm({ transB: !outer, m: n, n: inF, k: outF, beta: 0, a: g, w: weight, c: gx.floatData });
      if (gxa && lowRank) {
        gemm({
          transA: false,
          transB: false,
          m: n,
          n: inF,
          k: r,
          alpha: 1,
          beta: 1,
          a: gxa,
          b: lowRank.a.floatData,
          c: gx.floatData,
        });
      }
    }
    let gw: Tensor | null = null;
    if (trainW && savedX) {
      gw = new Tensor(empty(weight.dtype, weight.size), weight.shape);
      if (outer)
        gemm({
          transA: true,
          transB: false,
          m: outF,
          n: inF,
          k: n,
          alpha: 1,
          beta: 0,
          a: g,
          b: savedX,
          c: gw.floatData,
        });
      else
        gemm({
          transA: true,
          transB: false,
          m: inF,
          n: outF,
          k: n,
          alpha: 1,
          beta: 0,
          a: savedX,
          b: g,
          c: gw.floatData,
        });
    }
    let gb: Tensor | null = null;
    if (bias && trainBias) {
      gb = zeros(bias);
      getBackend().reduceSum(g, 1, n, outF, gb.floatData);
    }
    let ga: Tensor | null = null;
    let gB: Tensor | null = null;
    if (lowRank) {
      if (trainA && gxa && savedX) {
        ga = new Tensor(empty(dtype, r * inF), lowRank.a.shape);
        gemm({
          transA: true,
          transB: false,
          m: r,
          n: inF,
          k: n,
          alpha: 1,
          beta: 0,
          a: gxa,
          b: savedX,
          c: ga.floatData,
        });
      }
      if (trainB && savedXa) {
        gB = new Tensor(empty(dtype, outF * r), lowRank.b.shape);
        gemm({
          transA: true,
          transB: false,
          m: outF,
          n: r,
          k: n,
          alpha: lowRank.scale,
          beta: 0,
          a: g,
          b: savedXa,
          c: gB.floatData,
        });
      }
    }
    return [gx, gw, ...(bias ? [gb] : []), ...(lowRank ? [ga, gB] : [])];
  });
}
