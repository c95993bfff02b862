/** A GGUF tensor before its type is chosen: matrices take the export dtype, vectors stay f32. */
export interface MappedTensor {
  name: string;
  shape: readonly number[];
  values: () => ArrayLike<number>;
}

/**
 * Reorders the rows of a [rows, cols] matrix (or a bias, cols = 1) from HF's rotate-half RoPE
 * layout to llama.cpp's interleaved one: within each head, row j·half + i moves to 2i + j. This is
 * llama.cpp's converter's permute (docs/export.md).
 */
export function permuteRopeRows(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  heads: number,
): Float32Array {
  const hd = rows / heads;
  const half = hd / 2;
  if (!Number.isInteger(half))
    throw new Error(`RoPE permutation: ${rows} rows do not split into ${heads} heads of even size`);
  const out = new Float32Array(rows * cols);
  for (let h = 0; h < heads; h++)
    for (let j = 0; j < 2; j++)
      for (let i = 0; i < half; i++) {
        const from = (h * hd + j * half + i) * cols;
        const to = (h * hd + 2 * i + j) * cols;
        for (let c = 0; c < cols; c++) out[to + c] = data[from + c];
      }
  return out;
}

/** A [rows, cols] matrix transposed (GPT-2's Conv1D [in, out] → ggml's [out, in]). */
export function transpose(data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}
