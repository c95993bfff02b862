import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type FloatArray, type GemmArgs, jsBackend } from "../../src/backend/index.js";
import { nativeBackend, nativeInfo, setNativeGemm } from "../../src/backend/native.js";
import { Generator } from "../../src/tensor/index.js";
import { assertClose } from "../helpers.js";

// The built-in GEMM (native/src/gemm_blocked.h) forced at run time, once per kernel set this CPU
// runs, against the TypeScript float64 GEMM. This runs in every build, so CI tests the built-in
// GEMM although it links OpenBLAS.
const info = nativeInfo();
const skip = !info && process.env.MORELORA_REQUIRE_NATIVE !== "1" ? "native addon not built" : false;
const rng = new Generator(23);
const f64 = (n: number): Float64Array => Float64Array.from({ length: n }, () => 2 * rng.uniform() - 1);

interface Case {
  m: number;
  n: number;
  k: number;
  batch?: number;
  // Batch strides in elements; undefined means contiguous products.
  strideA?: number;
  strideB?: number;
  strideC?: number;
  alpha?: number;
  beta?: number;
}

// Odd sizes around every block edge: the register tiles (up to 24 rows, 32 columns), the k block
// (256 floats, 128 doubles), the row block (96), the thread split and the narrow tile (n <= 16).
const CASES: Case[] = [
  { m: 1, n: 1, k: 1 },
  { m: 3, n: 17, k: 65 },
  { m: 17, n: 3, k: 257 },
  { m: 65, n: 65, k: 3 },
  { m: 257, n: 33, k: 17 },
  { m: 13, n: 16, k: 129 },
  { m: 100, n: 257, k: 300 },
  { m: 3, n: 600, k: 300 },
  { m: 4, n: 5, k: 6, batch: 3 },
  { m: 17, n: 9, k: 31, batch: 4, strideB: 0 },
  { m: 7, n: 33, k: 5, batch: 3, strideA: 0 },
  { m: 40, n: 24, k: 70, batch: 5, strideB: 0, beta: 0 },
  { m: 5, n: 7, k: 9, batch: 3, strideC: 0, beta: 1 },
  { m: 9, n: 11, k: 0, beta: 0.5 },
  { m: 6, n: 8, k: 10, alpha: 0 },
];

function run(
  backend: typeof jsBackend,
  c: Case,
  transA: boolean,
  transB: boolean,
  [a, b, out]: FloatArray[],
): void {
  const { m, n, k, batch = 1 } = c;
  const args: GemmArgs = {
    transA,
    transB,
    m,
    n,
    k,
    alpha: c.alpha ?? 0.75,
    beta: c.beta ?? -0.5,
    a,
    offA: 1,
    strideA: c.strideA ?? m * k,
    b,
    offB: 2,
    strideB: c.strideB ?? k * n,
    c: out,
    offC: 3,
    strideC: c.strideC ?? m * n,
    batch,
  };
  backend.gemm(args);
}

function check(c: Case, transA: boolean, transB: boolean): void {
  const batch = c.batch ?? 1;
  const span = (stride: number | undefined, size: number): number =>
    (stride ?? size) * (batch - 1) + size + 3;
  const a = f64(span(c.strideA, c.m * c.k));
  const b = f64(span(c.strideB, c.k * c.n));
  const out = f64(span(c.strideC, c.m * c.n));
  // beta = 0 must not read C: NaN there would otherwise reach the result.
  if (c.beta === 0) out.fill(Number.NaN, 3);
  const want = out.slice();
  run(jsBackend, c, transA, transB, [a, b, want]);
  const what = `${c.m}x${c.n}x${c.k} batch ${batch} transA ${transA} transB ${transB}`;
  const got64 = out.slice();
  run(nativeBackend!, c, transA, transB, [a, b, got64]);
  assertClose(got64, want, { rtol: 1e-12, atol: 1e-12, what: `float64 ${what}` });
  const got32 = Float32Array.from(out);
  run(nativeBackend!, c, transA, transB, [Float32Array.from(a), Float32Array.from(b), got32]);
  assertClose(got32, want, { rtol: 1e-4, atol: 1e-4 * Math.sqrt(c.k + 1), what: `float32 ${what}` });
}

describe("the built-in GEMM agrees with the TypeScript GEMM", { skip }, () => {
  const initial = info?.gemm ?? "blas";
  after(() => {
    if (info) setNativeGemm(initial);
  });
  for (const kernels of info?.builtinGemms ?? ["builtin"]) {
    it(`${kernels} kernels: every transpose pair, odd sizes, batch strides (0 included), alpha and beta`, () => {
      assert.ok(nativeBackend, "MORELORA_REQUIRE_NATIVE=1 but the native backend did not load");
      setNativeGemm(kernels);
      assert.equal(nativeInfo()?.gemm, kernels);
      for (const c of CASES)
        for (const transA of [false, true]) for (const transB of [false, true]) check(c, transA, transB);
    });
  }

  it("names the choices when asked for a GEMM this build lacks", () => {
    assert.throws(() => setNativeGemm("sse9"), /GEMM "sse9" is not in this build; expected one of .*builtin/);
  });
});
