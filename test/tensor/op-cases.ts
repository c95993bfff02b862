import * as T from "../../src/tensor/index.js";
import { Generator, rand, randn, type Tensor, tensor } from "../../src/tensor/index.js";

export interface OpCase {
  name: string;
  /** Float64 inputs, freshly drawn from rng. */
  make: (rng: Generator) => Tensor[];
  f: (...xs: Tensor[]) => Tensor;
  /** Tolerance of the float32-vs-float64 comparison, when the op amplifies rounding. */
  f32rtol?: number;
}

const f64 = { dtype: "float64" } as const;
const n = (rng: Generator, ...shape: number[]): Tensor => randn(shape, rng, f64);
/** Values bounded away from 0, for ops with a pole or kink there. */
const pos = (rng: Generator, ...shape: number[]): Tensor => rand(shape, rng, 0.5, 2, f64);
/** Values of random sign, bounded away from 0. */
const awayFromZero = (rng: Generator, ...shape: number[]): Tensor => {
  const t = rand(shape, rng, 0.3, 1.5, f64);
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (rng.bernoulli(0.5)) d[i] = -d[i];
  return t;
};

const ints = (values: number[], shape: number[]): Tensor => tensor(Int32Array.from(values), shape);

export const opCases: OpCase[] = [
  { name: "matmul 2d", make: (r) => [n(r, 3, 4), n(r, 4, 5)], f: (a, b) => T.matmul(a, b) },
  {
    name: "matmul transA",
    make: (r) => [n(r, 4, 3), n(r, 4, 5)],
    f: (a, b) => T.matmul(a, b, { transA: true }),
  },
  {
    name: "matmul transB",
    make: (r) => [n(r, 3, 4), n(r, 5, 4)],
    f: (a, b) => T.matmul(a, b, { transB: true }),
  },
  {
    name: "matmul transA transB",
    make: (r) => [n(r, 4, 3), n(r, 5, 4)],
    f: (a, b) => T.matmul(a, b, { transA: true, transB: true }),
  },
  { name: "matmul batched", make: (r) => [n(r, 2, 3, 4), n(r, 2, 4, 5)], f: (a, b) => T.matmul(a, b) },
  {
    name: "matmul folded batch",
    make: (r) => [n(r, 2, 3, 4), n(r, 5, 4)],
    f: (a, b) => T.matmul(a, b, { transB: true }),
  },
  {
    name: "matmul broadcast batch",
    make: (r) => [n(r, 3, 1, 2, 4), n(r, 2, 4, 3)],
    f: (a, b) => T.matmul(a, b),
  },
  {
    name: "matmul 2d @ batch",
    make: (r) => [n(r, 3, 4), n(r, 2, 5, 4)],
    f: (a, b) => T.matmul(a, b, { transB: true }),
  },
  {
    name: "linear with bias",
    make: (r) => [n(r, 2, 3, 4), n(r, 5, 4), n(r, 5)],
    f: (x, w, b) => T.linear(x, w, { bias: b }),
  },
  {
    name: "linear in-out layout, no bias",
    make: (r) => [n(r, 3, 4), n(r, 4, 6)],
    f: (x, w) => T.linear(x, w, { layout: "in-out" }),
  },
  {
    name: "linear with a low-rank term",
    make: (r) => [n(r, 2, 3, 4), n(r, 5, 4), n(r, 5), n(r, 2, 4), n(r, 5, 2)],
    f: (x, w, b, a, bb) => T.linear(x, w, { bias: b, lowRank: { a, b: bb, scale: 1.5 } }),
  },
  {
    name: "linear in-out with a low-rank term",
    make: (r) => [n(r, 3, 4), n(r, 4, 5), n(r, 3, 4), n(r, 5, 3)],
    f: (x, w, a, bb) => T.linear(x, w, { layout: "in-out", lowRank: { a, b: bb, scale: 0.5 } }),
  },
  { name: "add broadcast", make: (r) => [n(r, 2, 3, 4), n(r, 4)], f: T.add },
  { name: "add both broadcast", make: (r) => [n(r, 2, 1, 4), n(r, 3, 1)], f: T.add },
  { name: "add scalar", make: (r) => [n(r, 2, 3)], f: (a) => T.add(a, 1.5) },
  { name: "sub broadcast", make: (r) => [n(r, 3, 1), n(r, 2, 1, 4)], f: T.sub },
  { name: "sub from scalar", make: (r) => [n(r, 5)], f: (a) => T.sub(2, a) },
  { name: "mul broadcast", make: (r) => [n(r, 2, 3, 4), n(r, 3, 1)], f: T.mul },
  { name: "mul scalar", make: (r) => [n(r, 4)], f: (a) => T.mul(a, -3) },
  { name: "div broadcast", make: (r) => [n(r, 2, 3), pos(r, 3)], f: T.div },
  { name: "div scalar numerator", make: (r) => [pos(r, 2, 3)], f: (a) => T.div(1, a) },
  { name: "pow tensor", make: (r) => [pos(r, 2, 3), n(r, 3)], f: T.pow },
  { name: "pow scalar", make: (r) => [pos(r, 2, 3)], f: (a) => T.pow(a, 2.5) },
  { name: "neg", make: (r) => [n(r, 2, 3)], f: T.neg },
  { name: "add_scalar", make: (r) => [n(r, 3)], f: (a) => T.addScalar(a, 0.25) },
  { name: "mul_scalar", make: (r) => [n(r, 3)], f: (a) => T.mulScalar(a, 0.25) },
  { name: "sqrt", make: (r) => [pos(r, 2, 3)], f: T.sqrt },
  { name: "exp", make: (r) => [n(r, 2, 3)], f: T.exp },
  { name: "log", make: (r) => [pos(r, 2, 3)], f: T.log },
  { name: "abs", make: (r) => [awayFromZero(r, 2, 3)], f: T.abs },
  { name: "maximum broadcast", make: (r) => [n(r, 2, 3), n(r, 3)], f: T.maximum },
  { name: "minimum broadcast", make: (r) => [n(r, 2, 1), n(r, 2, 4)], f: T.minimum },
  { name: "clamp", make: (r) => [n(r, 4, 5)], f: (a) => T.clamp(a, -0.5, 0.7) },
  { name: "sum all", make: (r) => [n(r, 2, 3, 4)], f: (a) => T.sum(a) },
  { name: "sum axis", make: (r) => [n(r, 2, 3, 4)], f: (a) => T.sum(a, 1) },
  { name: "sum axes keepdim", make: (r) => [n(r, 2, 3, 4)], f: (a) => T.sum(a, [0, 2], true) },
  { name: "mean axis", make: (r) => [n(r, 2, 3, 4)], f: (a) => T.mean(a, -1) },
  { name: "mean all", make: (r) => [n(r, 3, 4)], f: (a) => T.mean(a) },
  { name: "max axis", make: (r) => [n(r, 3, 5)], f: (a) => T.max(a, 1) },
  { name: "max axis keepdim", make: (r) => [n(r, 2, 4, 3)], f: (a) => T.max(a, 1, true) },
  {
    name: "reshape",
    make: (r) => [n(r, 2, 6)],
    f: (a) => T.mul(T.reshape(a, [3, -1]), T.reshape(a, [3, 4])),
  },
  { name: "permute", make: (r) => [n(r, 2, 3, 4)], f: (a) => T.permute(a, [2, 0, 1]) },
  { name: "transpose", make: (r) => [n(r, 2, 3, 4)], f: (a) => T.transpose(a, 0, 1) },
  { name: "slice", make: (r) => [n(r, 3, 5)], f: (a) => T.slice(a, 1, 1, -1) },
  { name: "concat", make: (r) => [n(r, 2, 3), n(r, 2, 1)], f: (a, b) => T.concat([a, b, a], 1) },
  {
    name: "split",
    make: (r) => [n(r, 5, 2)],
    f: (a) => {
      const [p, q] = T.split(a, [2, 3], 0);
      return T.concat([q, p], 0);
    },
  },
  { name: "expand", make: (r) => [n(r, 3, 1)], f: (a) => T.expand(a, [2, 3, 4]) },
  {
    name: "indexSelect with repeats",
    make: (r) => [n(r, 4, 3)],
    f: (a) => T.indexSelect(a, 0, ints([3, 0, 3, 1], [4])),
  },
  { name: "indexSelect axis 1", make: (r) => [n(r, 2, 4, 3)], f: (a) => T.indexSelect(a, 1, [2, 2, 0]) },
  {
    name: "gather",
    make: (r) => [n(r, 3, 4)],
    f: (a) => T.gather(a, 1, ints([0, 3, 3, 1, 2, 0], [3, 2])),
  },
  {
    name: "where broadcast",
    make: (r) => [n(r, 2, 3), n(r, 3)],
    f: (a, b) => T.where(ints([1, 0, 1, 0, 0, 1], [2, 3]), a, b),
  },
  {
    name: "maskedFill",
    make: (r) => [n(r, 2, 3)],
    f: (a) => T.maskedFill(a, ints([0, 1, 1], [3]), -5),
  },
  { name: "relu", make: (r) => [awayFromZero(r, 3, 4)], f: T.relu },
  { name: "gelu erf", make: (r) => [n(r, 3, 4)], f: (a) => T.gelu(a) },
  { name: "gelu tanh", make: (r) => [n(r, 3, 4)], f: (a) => T.gelu(a, "tanh") },
  { name: "silu", make: (r) => [n(r, 3, 4)], f: T.silu },
  ...(["silu", "gelu", "gelu_tanh"] as const).map((act): OpCase => ({
    name: `gated activation ${act}`,
    make: (r) => [n(r, 3, 4), n(r, 3, 4)],
    f: (g, u) => T.gatedActivation(g, u, act),
  })),
  { name: "tanh", make: (r) => [n(r, 3, 4)], f: T.tanh },
  { name: "sigmoid", make: (r) => [n(r, 3, 4)], f: T.sigmoid },
  { name: "softmax", make: (r) => [n(r, 2, 3, 5)], f: (a) => T.softmax(a) },
  { name: "softmax axis 1", make: (r) => [n(r, 2, 3, 5)], f: (a) => T.softmax(a, 1) },
  { name: "logSoftmax", make: (r) => [n(r, 4, 6)], f: (a) => T.logSoftmax(a) },
  {
    name: "layerNorm",
    make: (r) => [n(r, 2, 3, 6), n(r, 6), n(r, 6)],
    f: (x, w, b) => T.layerNorm(x, w, b, 1e-5),
    f32rtol: 1e-3,
  },
  {
    name: "layerNorm no affine",
    make: (r) => [n(r, 4, 5)],
    f: (x) => T.layerNorm(x, null, null),
    f32rtol: 1e-3,
  },
  { name: "rmsNorm", make: (r) => [n(r, 2, 3, 6), n(r, 6)], f: (x, w) => T.rmsNorm(x, w, 1e-6) },
  { name: "rmsNorm no weight", make: (r) => [n(r, 4, 5)], f: (x) => T.rmsNorm(x, null) },
  {
    name: "crossEntropy",
    make: (r) => [n(r, 4, 5)],
    f: (x) => T.crossEntropy(x, ints([1, 4, 0, 2], [4])),
  },
  {
    name: "crossEntropy ignore + smoothing",
    make: (r) => [n(r, 2, 3, 5)],
    f: (x) => T.crossEntropy(x, ints([1, -100, 0, 4, -100, 3], [2, 3]), { labelSmoothing: 0.1 }),
  },
  {
    name: "crossEntropy sum",
    make: (r) => [n(r, 3, 4)],
    f: (x) => T.crossEntropy(x, ints([3, 0, 2], [3]), { reduction: "sum" }),
  },
  {
    name: "crossEntropy none",
    make: (r) => [n(r, 3, 4)],
    f: (x) => T.crossEntropy(x, ints([3, 0, -100], [3]), { reduction: "none" }),
  },
  {
    name: "attention causal, grouped-query, padded, windowed",
    make: (r) => [n(r, 2, 5, 8), n(r, 2, 5, 4), n(r, 2, 5, 4)],
    f: (q, k, v) =>
      T.attention(q, k, v, {
        heads: 4,
        kvHeads: 2,
        causal: true,
        window: 3,
        keyMask: ints([0, 1, 1, 1, 1, 1, 1, 1, 1, 1], [2, 5]),
      }),
  },
  {
    name: "attention with dropout (fixed seed), grouped-query, cached keys",
    make: (r) => [n(r, 2, 3, 8), n(r, 2, 6, 4), n(r, 2, 6, 4)],
    f: (q, k, v) =>
      T.attention(q, k, v, { heads: 4, kvHeads: 2, causal: true, dropout: { p: 0.4, seed: 21 } }),
  },
  { name: "rowNorm", make: (r) => [n(r, 4, 6)], f: (x) => T.rowNorm(x) },
  {
    name: "dropout (fixed seed)",
    make: (r) => [n(r, 4, 6)],
    f: (x) => T.dropout(x, 0.3, new Generator(5)),
  },
];
