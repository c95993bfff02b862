import * as T from "../tensor/index.js";
import { type DType, Generator, type Tensor } from "../tensor/index.js";
import { Linear } from "./layers.js";
import { Module } from "./module.js";

export interface AttentionMaskOptions {
  /** Each query sees only keys at or before its own position. */
  causal?: boolean;
  /** [batch, keys]: 1 (or nonzero) for real tokens, 0 for padding, which no query attends to. */
  attentionMask?: Tensor | null;
}

/** The most negative finite value of a dtype: masked scores, as HF uses (a whole masked row stays finite). */
function maskValue(dtype: DType): number {
  return dtype === "float64" ? -Number.MAX_VALUE : -3.4028234663852886e38;
}

/**
 * A [batch|1, 1, tq, tk] int32 mask, 1 where attention is blocked, or null when nothing is.
 * With a KV cache the queries are the last tq of the tk positions.
 */
export function attentionBlockMask(
  batch: number,
  tq: number,
  tk: number,
  options: AttentionMaskOptions,
): Tensor | null {
  const { causal = false, attentionMask = null } = options;
  if (!causal && !attentionMask) return null;
  if (
    attentionMask &&
    (attentionMask.ndim !== 2 || attentionMask.shape[0] !== batch || attentionMask.shape[1] !== tk)
  ) {
    throw new Error(
      `attentionMask must have shape [${batch}, ${tk}], got [${attentionMask.shape.join(", ")}]`,
    );
  }
  const b = attentionMask ? batch : 1;
  const data = new Int32Array(b * tq * tk);
  const offset = tk - tq;
  for (let n = 0; n < b; n++) {
    for (let i = 0; i < tq; i++) {
      for (let j = 0; j < tk; j++) {
        const future = causal && j > i + offset;
        const padded = attentionMask !== null && attentionMask.data[n * tk + j] === 0;
        data[(n * tq + i) * tk + j] = future || padded ? 1 : 0;
      }
    }
  }
  return T.tensor(data, [b, 1, tq, tk]);
}

/**
 * softmax(q kᵀ · scale + mask) v over heads: q [B, H, Tq, d], k [B, H, Tk, d], v [B, H, Tk, dv].
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionMaskOptions & { scale?: number } = {},
): Tensor {
  const [batch, , tq, d] = q.shape;
  const tk = k.shape[2];
  let scores = T.mulScalar(T.matmul(q, k, { transB: true }), options.scale ?? 1 / Math.sqrt(d));
  const mask = attentionBlockMask(batch, tq, tk, options);
  if (mask) scores = T.maskedFill(scores, mask, maskValue(q.dtype));
  return T.matmul(T.softmax(scores, -1), v);
}

/** Repeats each key/value head nRep times along axis 1 (grouped-query attention). */
export function repeatKvHeads(x: Tensor, nRep: number): Tensor {
  if (nRep === 1) return x;
  const heads = x.shape[1];
  const idx = Int32Array.from({ length: heads * nRep }, (_, i) => Math.floor(i / nRep));
  return T.indexSelect(x, 1, idx);
}

/** [B, T, H·d] -> [B, H, T, d] */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, t, dim] = x.shape;
  return T.permute(T.reshape(x, [b, t, heads, dim / heads]), [0, 2, 1, 3]);
}

/** [B, H, T, d] -> [B, T, H·d] */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, t, d] = x.shape;
  return T.reshape(T.permute(x, [0, 2, 1, 3]), [b, t, h * d]);
}

export interface MultiHeadAttentionOptions {
  numHeads: number;
  /** Fewer key/value heads than query heads gives grouped-query attention. */
  numKvHeads?: number;
  bias?: boolean;
  outputBias?: boolean;
  dtype?: DType;
  rng?: Generator;
}

/** Self-attention with q_proj, k_proj, v_proj and o_proj, causal and padding masks. */
export class MultiHeadAttention extends Module {
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;

  constructor(
    readonly hiddenSize: number,
    options: MultiHeadAttentionOptions,
  ) {
    super();
    const {
      numHeads,
      numKvHeads = numHeads,
      bias = true,
      outputBias = bias,
      dtype,
      rng = new Generator(0),
    } = options;
    if (hiddenSize % numHeads !== 0 || numHeads % numKvHeads !== 0) {
      throw new Error(
        `attention: hidden size ${hiddenSize}, ${numHeads} heads and ${numKvHeads} key/value heads do not divide evenly`,
      );
    }
    this.numHeads = numHeads;
    this.numKvHeads = numKvHeads;
    this.headDim = hiddenSize / numHeads;
    const kvDim = this.headDim * numKvHeads;
    this.registerModule("q_proj", new Linear(hiddenSize, hiddenSize, { bias, dtype, rng }));
    this.registerModule("k_proj", new Linear(hiddenSize, kvDim, { bias, dtype, rng }));
    this.registerModule("v_proj", new Linear(hiddenSize, kvDim, { bias, dtype, rng }));
    this.registerModule("o_proj", new Linear(hiddenSize, hiddenSize, { bias: outputBias, dtype, rng }));
  }

  private proj(name: string, x: Tensor): Tensor {
    return (this.child(name) as Linear).forward(x);
  }

  forward(x: Tensor, options: AttentionMaskOptions = {}): Tensor {
    const nRep = this.numHeads / this.numKvHeads;
    const q = splitHeads(this.proj("q_proj", x), this.numHeads);
    const k = repeatKvHeads(splitHeads(this.proj("k_proj", x), this.numKvHeads), nRep);
    const v = repeatKvHeads(splitHeads(this.proj("v_proj", x), this.numKvHeads), nRep);
    return this.proj("o_proj", mergeHeads(scaledDotProductAttention(q, k, v, options)));
  }
}
