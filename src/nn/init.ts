import type { Generator, Tensor } from "../tensor/index.js";

/** PyTorch's fan-in and fan-out of a weight: dims 1 and 0, times the receptive field. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fan in/out need 2+ dimensions, got [${shape.join(", ")}]`);
  const receptive = shape.slice(2).reduce((n, d) => n * d, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

export function uniform_(t: Tensor, rng: Generator, low: number, high: number): Tensor {
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * rng.uniform();
  return t;
}

export function normal_(t: Tensor, rng: Generator, mean = 0, std = 1): Tensor {
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = rng.normal(mean, std);
  return t;
}

export function constant_(t: Tensor, value: number): Tensor {
  t.data.fill(value);
  return t;
}

export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

/**
 * torch.nn.init.kaiming_uniform_ with leaky-ReLU gain: bound = gain·√(3/fan_in),
 * gain = √(2/(1+a²)). The default a = √5 is nn.Linear's init, whose bound is 1/√fan_in.
 */
export function kaimingUniform_(
  t: Tensor,
  rng: Generator,
  { a = Math.sqrt(5), mode = "fan_in" }: { a?: number; mode?: "fan_in" | "fan_out" } = {},
): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  const gain = Math.sqrt(2 / (1 + a * a));
  const bound = gain * Math.sqrt(3 / (mode === "fan_in" ? fanIn : fanOut));
  return uniform_(t, rng, -bound, bound);
}

/**
 * torch.nn.init.orthogonal_: a QR of a normal matrix with R's diagonal made positive, so the rows
 * (or columns, whichever are fewer) are orthonormal; times gain.
 */
export function orthogonal_(t: Tensor, rng: Generator, gain = 1): Tensor {
  if (t.ndim < 2) throw new Error("orthogonal_ needs 2+ dimensions");
  const rows = t.shape[0];
  const cols = t.size / rows;
  // Work on the tall orientation: m >= n, orthonormalize the n columns.
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  const q = new Float64Array(m * n);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  // Modified Gram–Schmidt: gives the QR factor whose R has a positive diagonal.
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += q[i * n + p] * q[i * n + j];
      for (let i = 0; i < m; i++) q[i * n + j] -= dot * q[i * n + p];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += q[i * n + j] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) q[i * n + j] /= norm;
  }
  const d = t.data;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      d[r * cols + c] = gain * (rows >= cols ? q[r * n + c] : q[c * n + r]);
    }
  }
  return t;
}
