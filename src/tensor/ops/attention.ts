import { type AttentionArgs, type FloatArray, getBackend } from "../../backend/index.js";
import { record } from "../autograd.js";
import { empty, formatShape, Tensor } from "../tensor.js";

export interface AttentionOptions {
  /** Query heads: the last axis of q is heads · headDim. */
  heads: number;
  /** Key/value heads (grouped-query attention when fewer than heads); defaults to heads. */
  kvHeads?: number;
  /** Each query sees only keys at or before its own position. */
  causal?: boolean;
  /** Sliding window (needs causal): keys less than `window` positions before the query; 0 for none. */
  window?: number;
  /** [batch, tk]: 0 for padding keys, which no query sees (e.g. the tokenizer's attention_mask). */
  keyMask?: Tensor | null;
  /** Multiplies the scores; defaults to 1/√headDim. */
  scale?: number;
  /**
   * Dropout of the attention probabilities (training): each is zeroed with probability p (in [0, 1))
   * and the rest scaled by 1/(1 − p), by a mask that the uint32 seed fixes (docs/attention.md,
   * "Dropout"); the backward and a recompute see the same mask. Absent or p = 0: no dropout.
   */
  dropout?: { p: number; seed: number };
}

function fail(what: string): never {
  throw new Error(`attention: ${what}`);
}

function keyMaskData(mask: Tensor | null, batch: number, tk: number): Int32Array | null {
  if (!mask) return null;
  if (mask.ndim !== 2 || mask.shape[0] !== batch || mask.shape[1] !== tk)
    fail(`keyMask must have shape [${batch}, ${tk}], got ${formatShape(mask.shape)}`);
  return mask.data instanceof Int32Array ? mask.data : Int32Array.from(mask.data, (x) => (x !== 0 ? 1 : 0));
}

function dropoutArgs(dropout: AttentionOptions["dropout"]): Pick<AttentionArgs, "dropout" | "dropoutSeed"> {
  if (!dropout) return { dropout: 0, dropoutSeed: 0 };
  const { p, seed } = dropout;
  if (!(p >= 0 && p < 1)) fail(`dropout p must be in [0, 1), got ${p}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    fail(`dropout seed must be a uint32 integer, got ${seed}`);
  return { dropout: p, dropoutSeed: seed };
}

/**
 * Fused multi-head attention, softmax(q·kᵀ·scale + mask)·v per head (docs/attention.md):
 * q [B, Tq, heads·d], k and v [B, Tk, kvHeads·d], straight from the projections; the
 * result is [B, Tq, heads·d], ready for the output projection. The queries are the last Tq of the Tk
 * positions (a KV cache holds the others). Never holds [Tq, Tk] scores: the backward recomputes them
 * from the output and each query's log-sum-exp. A query that sees no key gets 0. With dropout,
 * out = (softmax(…) ∘ mask / (1 − p))·v, as transformers' attention in training.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): Tensor {
  const { heads, kvHeads = heads, causal = false, window = 0, keyMask = null } = options;
  if (q.ndim !== 3 || k.ndim !== 3 || v.ndim !== 3)
    fail(`q, k and v must be [batch, steps, heads·dim], got ${[q, k, v].map((t) => formatShape(t.shape))}`);
  if (!q.isFloat || k.dtype !== q.dtype || v.dtype !== q.dtype)
    fail(`q, k and v must share one float dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}`);
  if (!Number.isInteger(heads) || !Number.isInteger(kvHeads) || kvHeads < 1 || heads % kvHeads !== 0)
    fail(`heads ${heads} must be a multiple of kvHeads ${kvHeads}`);
  const [batch, tq, width] = q.shape;
  const tk = k.shape[1];
  const dim = width / heads;
  if (!Number.isInteger(dim) || dim < 1) fail(`q's last axis ${width} does not split into ${heads} heads`);
  const kvShape = [batch, tk, kvHeads * dim];
  for (const [name, t] of [
    ["k", k],
    ["v", v],
  ] as const)
    if (t.shape.some((d, i) => d !== kvShape[i]))
      fail(`${name} must have shape ${formatShape(kvShape)}, got ${formatShape(t.shape)}`);
  if (causal && tq > tk) fail(`causal attention needs at least as many keys (${tk}) as queries (${tq})`);
  if (!Number.isInteger(window) || window < 0) fail(`window must be a non-negative integer, got ${window}`);
  if (window > 0 && !causal) fail("a sliding window needs causal attention");
  const dropout = dropoutArgs(options.dropout);

  const out = new Tensor(empty(q.dtype, q.size), q.shape);
  const args: AttentionArgs = {
    batch,
    heads,
    kvHeads,
    tq,
    tk,
    dim,
    scale: options.scale ?? 1 / Math.sqrt(dim),
    causal,
    window,
    keyMask: keyMaskData(keyMask, batch, tk),
    ...dropout,
    q: q.floatData,
    k: k.floatData,
    v: v.floatData,
    out: out.floatData,
    lse: empty(q.dtype, batch * heads * tq) as FloatArray,
  };
  getBackend().attention(args);
  return record(out, "attention", [q, k, v], (g) => {
    const [dq, dk, dv] = [q, k, v].map((t) => new Tensor(empty(t.dtype, t.size), t.shape));
    getBackend().attentionGrad(args, g.floatData, dq.floatData, dk.floatData, dv.floatData);
    return [dq, dk, dv];
  });
}
