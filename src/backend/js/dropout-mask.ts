/**
 * The dropout mask of the fused attention (docs/attention.md, "Dropout"): a stateless hash of
 * (seed, query row, key), so any kernel can recompute any entry in any order (the backward, the
 * recompute of gradient checkpointing) and get the same mask. native/src/dropout_mask.h
 * computes the same bits. The elementwise dropout (T.dropout, ./dropout.ts) uses the same mask,
 * element i being key j = i mod 2³² of row ⌊i / 2³²⌋.
 */

/** A uint32 → uint32 mixing function (lowbias32), in wrapping uint32 arithmetic. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The dropout multipliers of one query row against the keys j: 1/(1 − p) for a kept key, 0 for a
 * dropped one. `row` is (b·heads + h)·tq + i for query head h (the query's index into lse), taken
 * mod 2³². p = 0 keeps every key at 1 without hashing, so the arithmetic is that of no dropout.
 */
export function dropoutRow(p: number, seed: number, row: number): (j: number) => number {
  if (p === 0) return () => 1;
  const m = maskRow(p, seed, row);
  return (j) => multiplier(m, j);
}

/** One row of the mask: key j is kept, and multiplied by `kept`, when mix32(rowKey ^ j) ≥ threshold. */
export interface MaskRow {
  rowKey: number;
  threshold: number;
  kept: number;
}

export function maskRow(p: number, seed: number, row: number): MaskRow {
  const rowKey = mix32(seed ^ mix32(row >>> 0));
  const threshold = Math.floor(p * 2 ** 32);
  const kept = 1 / (1 - p);
  return { rowKey, threshold, kept };
}

export function multiplier(m: MaskRow, j: number): number {
  return mix32(m.rowKey ^ j) >= m.threshold ? m.kept : 0;
}
