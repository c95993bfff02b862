import type { FloatArray } from "../backend.js";

/**
 * Rotary position embedding over the halves of each head (HF's rotate_half layout), and its
 * transpose for the backward: see Backend.rope.
 */
export function rope(
  x: FloatArray,
  cos: FloatArray,
  sin: FloatArray,
  rows: number,
  heads: number,
  dim: number,
  out: FloatArray,
  transpose: boolean,
): void {
  const half = dim / 2;
  const sign = transpose ? -1 : 1;
  for (let r = 0; r < rows; r++) {
    const t = r * dim;
    for (let h = 0; h < heads; h++) {
      const o = (r * heads + h) * dim;
      for (let i = 0; i < half; i++) {
        const x1 = x[o + i];
        const x2 = x[o + i + half];
        // forward: [x1·c1 − x2·s1, x2·c2 + x1·s2]; transpose: [x1·c1 + x2·s2, x2·c2 − x1·s1]
        const s1 = transpose ? sin[t + i + half] : sin[t + i];
        const s2 = transpose ? sin[t + i] : sin[t + i + half];
        out[o + i] = x1 * cos[t + i] - sign * x2 * s1;
        out[o + i + half] = x2 * cos[t + i + half] + sign * x1 * s2;
      }
    }
  }
}
