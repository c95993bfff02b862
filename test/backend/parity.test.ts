import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Backend, type FloatArray, jsBackend } from "../../src/backend/index.js";
import { nativeBackend, nativeInfo, setNativeThreads } from "../../src/backend/native.js";
import { contiguousStrides } from "../../src/backend/js/strided.js";
import { Generator } from "../../src/tensor/index.js";
import { assertClose } from "../helpers.js";

const hasNative = nativeBackend !== null;
const skip = !hasNative && process.env.MORELORA_REQUIRE_NATIVE !== "1" ? "native addon not built" : false;
// Sizes that are not multiples of any vector width, plus one past the parallel grain.
const SIZES = [1, 7, 33, 100];

const rng = new Generator(17);
const f64 = (n: number, lo = -2, hi = 2): Float64Array =>
  Float64Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
const f32 = (a: Float64Array): Float32Array => Float32Array.from(a);
const ints = (n: number, hi: number): Int32Array => Int32Array.from({ length: n }, () => rng.int(hi));

/**
 * Runs `call` on a backend with float64 inputs and with their float32 copies; compares both native
 * results with the TypeScript float64 reference. `outs` are sizes of zeroed outputs.
 */
function parity(
  native: Backend,
  inputs: Float64Array[],
  outs: number[],
  call: (b: Backend, ins: FloatArray[], outs: FloatArray[]) => void,
  { rtol32 = 2e-5, atol32 = 2e-5 }: { rtol32?: number; atol32?: number } = {},
): void {
  const ref = outs.map((n) => new Float64Array(n));
  call(
    jsBackend,
    inputs.map((a) => a.slice()),
    ref,
  );
  const n64 = outs.map((n) => new Float64Array(n));
  call(
    native,
    inputs.map((a) => a.slice()),
    n64,
  );
  const n32 = outs.map((n) => new Float32Array(n));
  call(native, inputs.map(f32), n32);
  ref.forEach((r, i) => {
    assertClose(n64[i], r, { rtol: 1e-12, atol: 1e-12, what: `float64 output ${i}` });
    assertClose(n32[i], r, { rtol: rtol32, atol: atol32, what: `float32 output ${i}` });
  });
}

// Lengths around the native attention kernel's 32-query and 64-key blocks; (3, 70) is a cached decode.
const ATTENTION_LENGTHS = [
  [1, 1],
  [33, 33],
  [70, 70],
  [3, 70],
];
const ATTENTION_VARIANTS = [
  { causal: false, window: 0, masked: false },
  { causal: true, window: 0, masked: false },
  { causal: true, window: 5, masked: true },
  { causal: false, window: 0, masked: true },
];
const ATTENTION_HEADS = [
  { heads: 4, kvHeads: 4 },
  { heads: 4, kvHeads: 2 },
  { heads: 3, kvHeads: 1 },
];

interface AttentionCase {
  batch: number;
  heads: number;
  kvHeads: number;
  tq: number;
  tk: number;
  dim: number;
  causal: boolean;
  window: number;
  /** Pads every 7th key. */
  masked: boolean;
  dropout?: number;
  dropoutSeed?: number;
}

/** The fused attention's forward (out, lse) and backward (dq, dk, dv) on both backends. */
function attentionParity(native: Backend, c: AttentionCase): void {
  const { batch, heads, kvHeads, tq, tk, dim, masked, dropout = 0, dropoutSeed = 0 } = c;
  const keyMask = masked ? Int32Array.from({ length: batch * tk }, (_, i) => (i % 7 === 2 ? 0 : 1)) : null;
  const qSize = batch * tq * heads * dim;
  const kvSize = batch * tk * kvHeads * dim;
  parity(
    native,
    [f64(qSize), f64(kvSize), f64(kvSize), f64(qSize)],
    [qSize, batch * heads * tq, qSize, kvSize, kvSize],
    (be, [q, k, v, g], [out, lse, dq, dk, dv]) => {
      const args = {
        batch,
        heads,
        kvHeads,
        tq,
        tk,
        dim,
        scale: 0.3,
        causal: c.causal,
        window: c.window,
        keyMask,
        dropout,
        dropoutSeed,
        q,
        k,
        v,
        out,
        lse,
      };
      be.attention(args);
      be.attentionGrad(args, g, dq, dk, dv);
    },
    { rtol32: 1e-4, atol32: 1e-4 },
  );
}

describe("native kernels agree with the TypeScript float64 reference", { skip }, () => {
  const native = (): Backend => {
    assert.ok(nativeBackend, "MORELORA_REQUIRE_NATIVE=1 but the native backend did not load");
    return nativeBackend;
  };

  it("gemm: every transpose pair, odd sizes, alpha/beta, batch strides and broadcast batches", () => {
    const b = native();
    for (const m of [1, 7, 33]) {
      for (const [n, k] of [
        [1, 7],
        [33, 100],
        [7, 1],
      ]) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const [batch, sharedB] of [
              [1, false],
              [3, false],
              [3, true],
            ] as const) {
              const a = f64(batch * m * k);
              const bb = f64((sharedB ? 1 : batch) * k * n);
              const c = f64(batch * m * n);
              parity(
                b,
                [a, bb, c],
                [batch * m * n],
                (be, [x, y, z], [out]) => {
                  out.set(z);
                  be.gemm({
                    transA,
                    transB,
                    m,
                    n,
                    k,
                    alpha: 0.5,
                    beta: 0.25,
                    a: x,
                    offA: 0,
                    strideA: m * k,
                    b: y,
                    offB: 0,
                    strideB: sharedB ? 0 : k * n,
                    c: out,
                    offC: 0,
                    strideC: m * n,
                    batch,
                  });
                },
                { rtol32: 1e-4, atol32: 1e-4 },
              );
            }
          }
        }
      }
    }
  });

  it("binary ops with broadcasting, including rows of odd lengths", () => {
    const b = native();
    const shapes: [number[], number[]][] = [
      [[7], [7]],
      [[33, 7], [7]],
      [
        [2, 33, 1],
        [1, 100],
      ],
      [[1], [3, 7]],
      [
        [100, 100],
        [100, 1],
      ],
    ];
    for (const op of ["add", "sub", "mul", "div", "max", "min", "gt", "eq", "pow"] as const) {
      for (const [sa, sb] of shapes) {
        const out = sa.length >= sb.length ? [...sa] : [...sb];
        const nd = out.length;
        const pa = [...Array(nd - sa.length).fill(1), ...sa];
        const pb = [...Array(nd - sb.length).fill(1), ...sb];
        const shape = pa.map((d, i) => Math.max(d, pb[i]));
        const strides = (s: number[]): number[] => contiguousStrides(s).map((st, i) => (s[i] === 1 ? 0 : st));
        const size = shape.reduce((p, d) => p * d, 1);
        const a = f64(
          pa.reduce((p, d) => p * d, 1),
          op === "pow" ? 0.5 : -2,
          2,
        );
        const c = f64(pb.reduce((p, d) => p * d, 1));
        if (op === "eq") c.set(a.subarray(0, Math.min(a.length, c.length)));
        parity(b, [a, c], [size], (be, [x, y], [o]) =>
          be.binary(op, x, strides(pa), y, strides(pb), o, shape),
        );
      }
    }
  });

  it("unary ops and their gradients", () => {
    const b = native();
    const ops = [
      "neg",
      "exp",
      "log",
      "sqrt",
      "abs",
      "tanh",
      "sigmoid",
      "relu",
      "gelu",
      "gelu_tanh",
      "silu",
    ] as const;
    const scalarOps = [
      ["add_scalar", 0.5, 0],
      ["mul_scalar", -1.5, 0],
      ["pow_scalar", 2.5, 0],
      ["clamp", -0.5, 0.7],
    ] as const;
    for (const n of [...SIZES, 40000]) {
      for (const op of ops) {
        const positive = op === "log" || op === "sqrt";
        const x = f64(n, positive ? 0.1 : -3, 3);
        const gy = f64(n);
        parity(b, [x, gy], [n, n], (be, [xx, g], [y, gx]) => {
          be.unary(op, xx, y);
          be.unaryGrad(op, xx, y, g, gx);
        });
      }
      for (const [op, p0, p1] of scalarOps) {
        const x = f64(n, op === "pow_scalar" ? 0.1 : -2, 2);
        const gy = f64(n);
        parity(b, [x, gy], [n, n], (be, [xx, g], [y, gx]) => {
          be.unary(op, xx, y, p0, p1);
          be.unaryGrad(op, xx, y, g, gx, p0, p1);
        });
      }
    }
  });

  it("the gated activation and its gradient", () => {
    const b = native();
    for (const n of [...SIZES, 40000])
      for (const act of ["silu", "gelu", "gelu_tanh"] as const)
        parity(b, [f64(n, -4, 4), f64(n), f64(n)], [n, n, n], (be, [g, u, gy], [out, gg, gu]) => {
          be.gatedActivation(act, g, u, out);
          be.gatedActivationGrad(act, g, u, gy, gg, gu);
        });
  });

  it("dropout (its own gradient) at sizes around its 8192-element chunks, in place, on 1 and 3 threads", () => {
    const b = native();
    const threads = nativeInfo()!.threads;
    try {
      for (const t of [1, 3]) {
        setNativeThreads(t);
        for (const n of [...SIZES, 8191, 8193, 3 * 8192 + 17])
          for (const p of [0, 0.1, 0.5]) {
            parity(b, [f64(n)], [n], (be, [x], [out]) => be.dropout(x, out, p, 0xdeadbeef));
            parity(b, [f64(n)], [n], (be, [x], [out]) => {
              out.set(x);
              be.dropout(out, out, p, 7);
            });
          }
      }
    } finally {
      setNativeThreads(threads);
    }
  });

  it("select and strided copies (permutes, slices, accumulation)", () => {
    const b = native();
    const shape = [3, 7, 5];
    const size = 105;
    const cond = ints(size, 2);
    parity(b, [f64(size), f64(5)], [size], (be, [x, y], [o]) =>
      be.select(cond, contiguousStrides(shape), x, contiguousStrides(shape), y, [0, 0, 1], o, shape),
    );
    // permute [3, 7, 5] -> [5, 3, 7]
    parity(b, [f64(size)], [size], (be, [x], [o]) =>
      be.copyStrided(x, 0, [1, 35, 5], o, 0, [21, 7, 1], [5, 3, 7], false),
    );
    // slice rows 2..5 of axis 1, accumulate into a zeroed buffer twice
    parity(b, [f64(size)], [45], (be, [x], [o]) => {
      be.copyStrided(x, 10, [35, 5, 1], o, 0, [15, 5, 1], [3, 3, 5], true);
      be.copyStrided(x, 10, [35, 5, 1], o, 0, [15, 5, 1], [3, 3, 5], true);
    });
  });

  it("reductions, index select/add, gather/scatter-add", () => {
    const b = native();
    for (const [outer, len, inner] of [
      [1, 7, 1],
      [33, 7, 1],
      [3, 33, 7],
      [1, 100, 100],
    ]) {
      const n = outer * len * inner;
      const x = f64(n);
      parity(b, [x], [outer * inner], (be, [xx], [o]) => be.reduceSum(xx, outer, len, inner, o));
      const am = [new Int32Array(outer * inner), new Int32Array(outer * inner)];
      let which = 0;
      parity(b, [x], [outer * inner], (be, [xx], [o]) =>
        be.reduceMax(xx, outer, len, inner, o, am[which++ % 2]),
      );
      assert.deepEqual(am[0], am[1]);
      const idx = ints(9, len);
      parity(b, [x], [outer * 9 * inner], (be, [xx], [o]) => be.indexSelect(xx, outer, len, inner, idx, o));
      parity(b, [f64(outer * 9 * inner)], [n], (be, [s], [o]) => be.indexAdd(s, outer, len, inner, idx, o));
      const gidx = ints(outer * 5 * inner, len);
      parity(b, [x], [outer * 5 * inner], (be, [xx], [o]) => be.gather(xx, outer, len, inner, 5, gidx, o));
      parity(b, [f64(outer * 5 * inner)], [n], (be, [s], [o]) =>
        be.scatterAdd(s, outer, len, inner, 5, gidx, o),
      );
    }
    assert.throws(
      () => native().indexSelect(f64(4), 1, 4, 1, Int32Array.from([4]), new Float64Array(1)),
      /out of range/,
    );
  });

  it("softmax, norms, cross-entropy and row norms with their gradients", () => {
    const b = native();
    for (const [rows, cols] of [
      [1, 1],
      [7, 33],
      [33, 7],
      [100, 100],
    ]) {
      const n = rows * cols;
      for (const log of [false, true]) {
        parity(b, [f64(n), f64(n)], [n, n], (be, [x, gy], [y, gx]) => {
          be.softmax(x, rows, cols, y, log);
          be.softmaxGrad(y, gy, rows, cols, gx, log);
        });
      }
      parity(
        b,
        [f64(n), f64(cols), f64(cols), f64(n)],
        [n, rows, rows, n, cols, cols],
        (be, [x, w, bb, gy], o) => {
          const [y, mean, rstd, gx, gw, gb] = o;
          be.layerNorm(x, w, bb, rows, cols, 1e-5, y, mean, rstd);
          be.layerNormGrad(x, w, mean, rstd, gy, rows, cols, gx, gw, gb);
        },
        { rtol32: 1e-3, atol32: 1e-3 },
      );
      parity(
        b,
        [f64(n), f64(cols), f64(n)],
        [n, rows, n, cols],
        (be, [x, w, gy], [y, rstd, gx, gw]) => {
          be.rmsNorm(x, w, rows, cols, 1e-6, y, rstd);
          be.rmsNormGrad(x, w, rstd, gy, rows, cols, gx, gw);
        },
        { rtol32: 1e-4, atol32: 1e-4 },
      );
      const targets = ints(rows, cols);
      if (rows > 1) targets[1] = -100;
      parity(b, [f64(n, -5, 5), f64(rows)], [rows, rows, n], (be, [x, gl], [loss, lse, gx]) => {
        be.crossEntropy(x, targets, rows, cols, -100, 0.1, loss, lse);
        be.crossEntropyGrad(x, targets, lse, gl, rows, cols, -100, 0.1, gx);
      });
      parity(b, [f64(n), f64(rows)], [rows, n], (be, [x, g], [norm, gx]) => {
        be.rowNorm(x, rows, cols, norm);
        be.rowNormGrad(x, norm, g, rows, cols, gx);
      });
    }
  });

  it("fused attention and its gradient: masks, window, grouped heads, odd lengths, head dims 1 to 128 (80: the kernels' one-vector tiles)", () => {
    const b = native();
    let n = 0;
    for (const dim of [1, 3, 64, 80, 128])
      for (const [tq, tk] of ATTENTION_LENGTHS)
        for (const variant of ATTENTION_VARIANTS)
          attentionParity(b, { ...variant, ...ATTENTION_HEADS[n++ % 3], batch: 2, tq, tk, dim });
  });

  it("fused attention with dropout: the same mask and gradients as the reference, odd lengths, grouped heads", () => {
    const b = native();
    let n = 0;
    for (const dim of [3, 64])
      for (const [tq, tk] of ATTENTION_LENGTHS)
        for (const variant of ATTENTION_VARIANTS)
          attentionParity(b, {
            ...variant,
            ...ATTENTION_HEADS[n++ % 3],
            batch: 2,
            tq,
            tk,
            dim,
            dropout: 0.3,
            dropoutSeed: 0xdeadbeef, // above 2³¹: the addon must read it as a uint32
          });
  });

  it("fused attention with dropout where the backward splits one (batch, key/value head) into key ranges, on 4 threads", () => {
    const b = native();
    const threads = nativeInfo()!.threads;
    setNativeThreads(4); // one pair and 4 key blocks: 4 ranges, whatever the cores
    try {
      for (const [tq, tk] of [
        [100, 200],
        [45, 200],
      ])
        for (const variant of ATTENTION_VARIANTS)
          attentionParity(b, {
            ...variant,
            batch: 1,
            heads: 2,
            kvHeads: 1,
            tq,
            tk,
            dim: 16,
            dropout: 0.5,
            dropoutSeed: 12345,
          });
    } finally {
      setNativeThreads(threads);
    }
  });

  it("rope and its transpose: head sizes 2 to 130, one or several heads", () => {
    const b = native();
    for (const [rows, heads, dim] of [
      [1, 1, 2],
      [7, 3, 6],
      [33, 4, 64],
      [5, 2, 130],
    ]) {
      const n = rows * heads * dim;
      for (const transpose of [false, true])
        parity(b, [f64(n), f64(rows * dim), f64(rows * dim)], [n], (be, [x, cos, sin], [out]) =>
          be.rope(x, cos, sin, rows, heads, dim, out, transpose),
        );
    }
  });

  it("AdamW over several steps", () => {
    const b = native();
    for (const n of [1, 7, 33, 40000]) {
      const grads = [f64(n), f64(n), f64(n)];
      parity(
        b,
        [f64(n), ...grads],
        [n, n, n],
        (be, [p0, g1, g2, g3], [p, m, v]) => {
          p.set(p0);
          [g1, g2, g3].forEach((g, i) =>
            be.adamw(p, g, m, v, {
              lr: 1e-2,
              beta1: 0.9,
              beta2: 0.999,
              eps: 1e-8,
              weightDecay: 0.01,
              step: i + 1,
            }),
          );
        },
        { rtol32: 1e-4, atol32: 1e-5 },
      );
    }
  });
});
