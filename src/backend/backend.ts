/**
 * The kernel interface every backend implements. Kernels are plain functions over typed arrays:
 * they read their inputs, write into caller-provided outputs and keep no state, so a native
 * backend can work zero-copy on the same memory. Shapes are row-major; strides count elements.
 */

export type FloatArray = Float32Array | Float64Array;

/** gt and eq give 1 or 0: masks, with no gradient. */
export type BinaryOp = "add" | "sub" | "mul" | "div" | "pow" | "max" | "min" | "gt" | "eq";

export type UnaryOp =
  | "neg"
  | "exp"
  | "log"
  | "sqrt"
  | "abs"
  | "tanh"
  | "sigmoid"
  | "relu"
  | "gelu"
  | "gelu_tanh"
  | "silu"
  /** x + p0 */
  | "add_scalar"
  /** x * p0 */
  | "mul_scalar"
  /** x ** p0 */
  | "pow_scalar"
  /** min(max(x, p0), p1) */
  | "clamp";

/** The activations a gated MLP's fused kernel takes: out = act(g) · u. */
export type GatedActivation = "silu" | "gelu" | "gelu_tanh";

export interface GemmArgs {
  /** C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b], op(A) is m x k, op(B) is k x n, C is m x n. */
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  a: FloatArray;
  offA: number;
  /** Elements between consecutive batch items of A; 0 broadcasts one matrix to every batch item. */
  strideA: number;
  b: FloatArray;
  offB: number;
  strideB: number;
  c: FloatArray;
  offC: number;
  strideC: number;
  batch: number;
}

export interface AdamWArgs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count, for bias correction. */
  step: number;
}

/**
 * Fused attention over heads (docs/attention.md): out = softmax(q·kᵀ·scale + mask)·v
 * without ever holding the [tq, tk] scores. q and out are [batch, tq, heads, dim], k and v
 * [batch, tk, kvHeads, dim] (the projections' own layout), all contiguous; query head h reads key/value
 * head h / (heads / kvHeads) (grouped-query attention, nothing copied). Query i sits at position
 * tk − tq + i (the last tq of tk positions, as with a KV cache). Key j is visible to it when
 * (not causal or j ≤ position) and (window = 0 or position − j < window) and keyMask[b, j] ≠ 0.
 * With dropout, out_i = Σ_j p_ij·m_ij·v_j: the softmax (and lse) is that of the undropped scores and
 * m_ij is the multiplier of src/backend/js/dropout-mask.ts (1/(1 − dropout) or 0), a function of
 * (dropoutSeed, b, h, i, j) alone, so the backward sees the mask of the forward.
 */
export interface AttentionArgs {
  batch: number;
  heads: number;
  kvHeads: number;
  tq: number;
  tk: number;
  dim: number;
  scale: number;
  causal: boolean;
  /** Sliding window: keys less than `window` positions before the query; 0 for none. */
  window: number;
  /** [batch, tk], 0 for padding keys that no query sees; null for none. */
  keyMask: Int32Array | null;
  /** Dropout probability of the attention probabilities, in [0, 1); 0 for none. */
  dropout: number;
  /** uint32 seed of the dropout mask. */
  dropoutSeed: number;
  q: FloatArray;
  k: FloatArray;
  v: FloatArray;
  out: FloatArray;
  /**
   * [batch, heads, tq]: each query's log-sum-exp of its visible scaled scores, written by the forward
   * and read by the backward; −∞ for a query that sees no key (its output is 0).
   */
  lse: FloatArray;
}

export interface Backend {
  readonly name: string;

  gemm(args: GemmArgs): void;

  /** out[i] = a[i·aStrides] op b[i·bStrides] over the multi-index i of `shape`. */
  binary(
    op: BinaryOp,
    a: FloatArray,
    aStrides: readonly number[],
    b: FloatArray,
    bStrides: readonly number[],
    out: FloatArray,
    shape: readonly number[],
  ): void;
  /** out = f(x) elementwise; p0 and p1 are the scalar parameters of the scalar ops. */
  unary(op: UnaryOp, x: FloatArray, out: FloatArray, p0?: number, p1?: number): void;
  /** gx = gy * f'(x); y = f(x) is passed because several derivatives are cheaper from it. */
  unaryGrad(
    op: UnaryOp,
    x: FloatArray,
    y: FloatArray,
    gy: FloatArray,
    gx: FloatArray,
    p0?: number,
    p1?: number,
  ): void;
  /** out = act(g) · u elementwise: the gated MLP's activation in one pass (docs/memory.md). */
  gatedActivation(act: GatedActivation, g: FloatArray, u: FloatArray, out: FloatArray): void;
  /** gg = gy · u · act'(g) and gu = gy · act(g), each as the unfused unary and product kernels compute it. */
  gatedActivationGrad(
    act: GatedActivation,
    g: FloatArray,
    u: FloatArray,
    gy: FloatArray,
    gg: FloatArray,
    gu: FloatArray,
  ): void;
  /**
   * Inverted dropout: out[i] = x[i]·m_i (x may be out), m_i the multiplier of
   * src/backend/js/dropout-mask.ts (1/(1 − p) or 0) at row ⌊i / 2³²⌋, j = i mod 2³²: a function of
   * (seed, i) alone. It is its own gradient: the same kernel and seed on the upstream gradient give
   * dx = g·m, so the backward keeps nothing but the seed.
   */
  dropout(x: FloatArray, out: FloatArray, p: number, seed: number): void;
  /** out[i] = cond[i] != 0 ? a[i] : b[i], each operand read through its own strides. */
  select(
    cond: Int32Array,
    condStrides: readonly number[],
    a: FloatArray,
    aStrides: readonly number[],
    b: FloatArray,
    bStrides: readonly number[],
    out: FloatArray,
    shape: readonly number[],
  ): void;
  /** dst[dstOff + i·dstStrides] = src[srcOff + i·srcStrides] (or += when accumulate). */
  copyStrided(
    src: FloatArray | Int32Array,
    srcOff: number,
    srcStrides: readonly number[],
    dst: FloatArray | Int32Array,
    dstOff: number,
    dstStrides: readonly number[],
    shape: readonly number[],
    accumulate: boolean,
  ): void;

  /** Reduces the middle axis of x viewed as [outer, len, inner]; for max, argmax gets the index. */
  reduceSum(x: FloatArray, outer: number, len: number, inner: number, out: FloatArray): void;
  reduceMax(
    x: FloatArray,
    outer: number,
    len: number,
    inner: number,
    out: FloatArray,
    argmax: Int32Array,
  ): void;

  /** dst[o, j, i] = src[o, idx[j], i] with src [outer, srcLen, inner]; idx out of range throws. */
  indexSelect(
    src: FloatArray,
    outer: number,
    srcLen: number,
    inner: number,
    idx: Int32Array,
    dst: FloatArray,
  ): void;
  /** dst[o, idx[j], i] += src[o, j, i]: the backward of indexSelect. */
  indexAdd(
    src: FloatArray,
    outer: number,
    dstLen: number,
    inner: number,
    idx: Int32Array,
    dst: FloatArray,
  ): void;
  /** torch.gather on the middle axis: dst[o, j, i] = src[o, idx[o, j, i], i], idx is [outer, k, inner]. */
  gather(
    src: FloatArray,
    outer: number,
    srcLen: number,
    inner: number,
    k: number,
    idx: Int32Array,
    dst: FloatArray,
  ): void;
  /** dst[o, idx[o, j, i], i] += src[o, j, i]: the backward of gather. */
  scatterAdd(
    src: FloatArray,
    outer: number,
    dstLen: number,
    inner: number,
    k: number,
    idx: Int32Array,
    dst: FloatArray,
  ): void;

  /** Softmax (or log-softmax) of each row of a [rows, cols] matrix. */
  softmax(x: FloatArray, rows: number, cols: number, out: FloatArray, log: boolean): void;
  /** Backward of softmax from its output y. */
  softmaxGrad(y: FloatArray, gy: FloatArray, rows: number, cols: number, gx: FloatArray, log: boolean): void;

  /** LayerNorm over rows; saves each row's mean and 1/std for the backward. */
  layerNorm(
    x: FloatArray,
    weight: FloatArray | null,
    bias: FloatArray | null,
    rows: number,
    cols: number,
    eps: number,
    out: FloatArray,
    mean: FloatArray,
    rstd: FloatArray,
  ): void;
  /** Writes gx; adds the weight and bias gradients into gw and gb when given. */
  layerNormGrad(
    x: FloatArray,
    weight: FloatArray | null,
    mean: FloatArray,
    rstd: FloatArray,
    gy: FloatArray,
    rows: number,
    cols: number,
    gx: FloatArray,
    gw: FloatArray | null,
    gb: FloatArray | null,
  ): void;
  /** RMSNorm over rows: x / sqrt(mean(x²) + eps) * weight; saves 1/rms. */
  rmsNorm(
    x: FloatArray,
    weight: FloatArray | null,
    rows: number,
    cols: number,
    eps: number,
    out: FloatArray,
    rstd: FloatArray,
  ): void;
  rmsNormGrad(
    x: FloatArray,
    weight: FloatArray | null,
    rstd: FloatArray,
    gy: FloatArray,
    rows: number,
    cols: number,
    gx: FloatArray,
    gw: FloatArray | null,
  ): void;

  /**
   * Per-row cross-entropy of logits [rows, cols] against class targets, PyTorch's formula with
   * label smoothing ε: (1-ε)·(lse - x_t) + ε·(lse - mean(x)). Rows whose target is ignoreIndex get 0.
   * lse receives each row's log-sum-exp for the backward.
   */
  crossEntropy(
    logits: FloatArray,
    targets: Int32Array,
    rows: number,
    cols: number,
    ignoreIndex: number,
    smoothing: number,
    loss: FloatArray,
    lse: FloatArray,
  ): void;
  /** gx[r] = gLoss[r] · (softmax(x_r) - (1-ε)·onehot(t_r) - ε/cols); zero rows where ignored. */
  crossEntropyGrad(
    logits: FloatArray,
    targets: Int32Array,
    lse: FloatArray,
    gLoss: FloatArray,
    rows: number,
    cols: number,
    ignoreIndex: number,
    smoothing: number,
    gx: FloatArray,
  ): void;

  /** Writes args.out and args.lse. */
  attention(args: AttentionArgs): void;
  /**
   * The backward from the forward's out and lse (probabilities recomputed, FlashAttention-2's
   * D = rowsum(dOut∘out), dS = P∘(dP − D), with dP = m∘(dOut·vᵀ) and dv = (P∘m)ᵀ·dOut under dropout):
   * overwrites dq, dk, dv, shaped as q, k, v.
   */
  attentionGrad(args: AttentionArgs, dOut: FloatArray, dq: FloatArray, dk: FloatArray, dv: FloatArray): void;

  /**
   * Rotary position embedding (HF's rotate_half layout): x and out are [rows, heads, dim], cos and
   * sin [rows, dim]; with x = [x1, x2] and the tables [c1, c2], [s1, s2] split in halves of each head,
   * out = [x1·c1 − x2·s1, x2·c2 + x1·s2]. With transpose, the transposed map (the backward):
   * out = [x1·c1 + x2·s2, x2·c2 − x1·s1]. dim is even.
   */
  rope(
    x: FloatArray,
    cos: FloatArray,
    sin: FloatArray,
    rows: number,
    heads: number,
    dim: number,
    out: FloatArray,
    transpose: boolean,
  ): void;

  /** L2 norm of each row of a [rows, cols] matrix. */
  rowNorm(x: FloatArray, rows: number, cols: number, out: FloatArray): void;
  /** gx = gNorm[r] · x / norm[r] (0 where the norm is 0). */
  rowNormGrad(
    x: FloatArray,
    norm: FloatArray,
    gNorm: FloatArray,
    rows: number,
    cols: number,
    gx: FloatArray,
  ): void;

  /** One AdamW step in place, PyTorch's update: decoupled decay, bias-corrected moments. */
  adamw(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, args: AdamWArgs): void;
}
