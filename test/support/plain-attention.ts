import { dropoutRow } from "../../src/backend/js/dropout-mask.js";
import * as T from "../../src/tensor/index.js";
import type { AttentionOptions, Tensor } from "../../src/tensor/index.js";

/**
 * The unfused attention the fused op replaces, built from matmul, softmax and maskedFill over an
 * explicit [B, H, Tq, Tk] score matrix, with the mask written out element by element from the rule
 * (causal: key ≤ position; window: position − key < window; padding). Rows that see no key are
 * zeroed, as the fused op does. With dropout, the probabilities are multiplied by the multipliers of
 * the mask function, [B, H, Tq, Tk] of them, before the product with v. The reference of
 * test/tensor/attention.test.ts.
 */
export function plainAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): Tensor {
  const { heads, kvHeads = heads, causal = false, window = 0, keyMask = null } = options;
  const [b, tq, width] = q.shape;
  const tk = k.shape[1];
  const d = width / heads;
  const split = (x: Tensor, h: number, t: number): Tensor =>
    T.permute(T.reshape(x, [b, t, h, d]), [0, 2, 1, 3]);
  const repeat = Int32Array.from({ length: heads }, (_, h) => Math.floor(h / (heads / kvHeads)));
  const kh = T.indexSelect(split(k, kvHeads, tk), 1, repeat);
  const vh = T.indexSelect(split(v, kvHeads, tk), 1, repeat);
  const scores = T.mulScalar(
    T.matmul(split(q, heads, tq), kh, { transB: true }),
    options.scale ?? 1 / Math.sqrt(d),
  );
  const blocked = new Int32Array(b * tq * tk);
  const sees = new Int32Array(b * tq);
  for (let n = 0; n < b; n++)
    for (let i = 0; i < tq; i++) {
      const pos = tk - tq + i;
      for (let j = 0; j < tk; j++) {
        const hidden =
          (causal && j > pos) ||
          (window > 0 && pos - j >= window) ||
          (keyMask !== null && keyMask.data[n * tk + j] === 0);
        blocked[(n * tq + i) * tk + j] = hidden ? 1 : 0;
        if (!hidden) sees[n * tq + i] = 1;
      }
    }
  const probs = T.softmax(
    T.maskedFill(scores, T.tensor(blocked, [b, 1, tq, tk]), q.dtype === "float64" ? -1e300 : -3e38),
    -1,
  );
  const dropped = options.dropout
    ? T.mul(probs, dropoutMultipliers(options.dropout, [b, heads, tq, tk]).to(q.dtype))
    : probs;
  const out = T.reshape(T.permute(T.matmul(dropped, vh), [0, 2, 1, 3]), [b, tq, width]);
  return T.mul(out, T.tensor(Float64Array.from(sees), [b, tq, 1]).to(q.dtype));
}

/** The [B, H, Tq, Tk] multipliers of the attention dropout: row (b·H + h)·Tq + i of the mask function. */
function dropoutMultipliers(
  { p, seed }: { p: number; seed: number },
  shape: [number, number, number, number],
): Tensor {
  const [b, h, tq, tk] = shape;
  const m = new Float64Array(b * h * tq * tk);
  for (let row = 0; row < b * h * tq; row++) {
    const keep = dropoutRow(p, seed, row);
    for (let j = 0; j < tk; j++) m[row * tk + j] = keep(j);
  }
  return T.tensor(m, shape);
}
