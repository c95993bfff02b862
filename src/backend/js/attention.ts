import type { AttentionArgs, FloatArray } from "../backend.js";
import { dropoutRow } from "./dropout-mask.js";

/**
 * The reference fused attention (docs/attention.md), one query row at a time: a row
 * of scores over the keys is the only temporary, never [tq, tk]. The native kernel is the blocked
 * version of the same arithmetic and is tested against this one.
 */

/** The keys [from, to) the query at `pos` may see before the padding mask. */
export function keyRange(a: AttentionArgs, pos: number): [number, number] {
  const to = a.causal ? Math.min(a.tk, pos + 1) : a.tk;
  const from = a.window > 0 ? Math.max(0, pos - a.window + 1) : 0;
  return [from, to];
}

/** Offsets of one query row of q/out and of one key row of k/v. */
function rows(a: AttentionArgs, b: number, h: number, i: number): { qo: number; kv: (j: number) => number } {
  const kvh = Math.floor(h / (a.heads / a.kvHeads));
  return {
    qo: ((b * a.tq + i) * a.heads + h) * a.dim,
    kv: (j: number) => ((b * a.tk + j) * a.kvHeads + kvh) * a.dim,
  };
}

function score(a: AttentionArgs, qo: number, ko: number): number {
  let s = 0;
  for (let d = 0; d < a.dim; d++) s += a.q[qo + d] * a.k[ko + d];
  return s * a.scale;
}

const padded = (a: AttentionArgs, b: number, j: number): boolean =>
  a.keyMask !== null && a.keyMask[b * a.tk + j] === 0;

export function attention(a: AttentionArgs): void {
  const { batch, heads, tq, tk, dim, v, out, lse } = a;
  const scores = new Float64Array(tk);
  const acc = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < tq; i++) {
        const row = (b * heads + h) * tq + i;
        const { qo, kv } = rows(a, b, h, i);
        const [from, to] = keyRange(a, tk - tq + i);
        const keep = dropoutRow(a.dropout, a.dropoutSeed, row);
        let max = Number.NEGATIVE_INFINITY;
        for (let j = from; j < to; j++) {
          scores[j] = padded(a, b, j) ? Number.NEGATIVE_INFINITY : score(a, qo, kv(j));
          if (!(scores[j] <= max)) max = scores[j]; // a NaN score makes the row NaN, as it should
        }
        acc.fill(0);
        let sum = 0;
        if (max !== Number.NEGATIVE_INFINITY) {
          for (let j = from; j < to; j++) {
            if (scores[j] === Number.NEGATIVE_INFINITY) continue;
            const p = Math.exp(scores[j] - max);
            sum += p; // the softmax is of the undropped scores; only P·V sees the mask
            const pm = p * keep(j);
            const vo = kv(j);
            for (let d = 0; d < dim; d++) acc[d] += pm * v[vo + d];
          }
        }
        for (let d = 0; d < dim; d++) out[qo + d] = sum === 0 ? 0 : acc[d] / sum;
        lse[row] = sum === 0 ? Number.NEGATIVE_INFINITY : max + Math.log(sum);
      }
    }
  }
}

export function attentionGrad(
  a: AttentionArgs,
  dOut: FloatArray,
  dq: FloatArray,
  dk: FloatArray,
  dv: FloatArray,
): void {
  const { batch, heads, tq, tk, dim, scale, q, k, v, out, lse } = a;
  dq.fill(0);
  dk.fill(0);
  dv.fill(0);
  const dqRow = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < tq; i++) {
        const row = (b * heads + h) * tq + i;
        const L = lse[row];
        if (L === Number.NEGATIVE_INFINITY) continue;
        const { qo, kv } = rows(a, b, h, i);
        const keep = dropoutRow(a.dropout, a.dropoutSeed, row);
        let D = 0;
        for (let d = 0; d < dim; d++) D += dOut[qo + d] * out[qo + d];
        dqRow.fill(0);
        const [from, to] = keyRange(a, tk - tq + i);
        for (let j = from; j < to; j++) {
          if (padded(a, b, j)) continue;
          const ko = kv(j);
          const m = keep(j);
          const p = Math.exp(score(a, qo, ko) - L);
          let dp = 0;
          for (let d = 0; d < dim; d++) dp += dOut[qo + d] * v[ko + d];
          const ds = p * (m * dp - D) * scale;
          const pm = p * m;
          for (let d = 0; d < dim; d++) {
            dv[ko + d] += pm * dOut[qo + d];
            dk[ko + d] += ds * q[qo + d];
            dqRow[d] += ds * k[ko + d];
          }
        }
        for (let d = 0; d < dim; d++) dq[qo + d] = dqRow[d];
      }
    }
  }
}
