import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { AttentionArgs, Backend, BinaryOp, FloatArray, GatedActivation, UnaryOp } from "./backend.js";
import { registerBackend, setUnavailableNote } from "./index.js";

/** The op codes of native/src/elementwise.h, in the order of its enums. */
const BINARY_OPS: readonly BinaryOp[] = ["add", "sub", "mul", "div", "pow", "max", "min", "gt", "eq"];
const UNARY_OPS: readonly UnaryOp[] = [
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
  "add_scalar",
  "mul_scalar",
  "pow_scalar",
  "clamp",
];
const binaryCode = new Map(BINARY_OPS.map((op, i) => [op, i]));
const unaryCode = new Map(UNARY_OPS.map((op, i) => [op, i]));

type Fn = (...args: unknown[]) => void;
export interface NativeInfo {
  /** The BLAS linked at build time: openblas, accelerate, blis, or builtin when none was found. */
  blas: string;
  coretype: string;
  /** The GEMM in use: "blas", or the built-in GEMM's kernels (avx512, avx2, neon, portable). */
  gemm: string;
  /** The built-in GEMM's kernels this CPU runs, fastest first. */
  builtinGemms: string[];
  threads: number;
}
type Addon = Record<string, Fn> & {
  info(): NativeInfo;
  setThreads(n: number): void;
  setGemm(name: string): void;
};

const addonPath = fileURLToPath(
  new URL("../../../native/build/Release/morelora_native.node", import.meta.url),
);
const HOW_TO_GET =
  "to get the native backend: apt-get install g++ make libopenblas-dev, then npm rebuild morelora";

/**
 * OpenBLAS and OpenMP threads spin after each call by default; on a machine with as many threads
 * as cores, a spinning BLAS thread then starves the next OpenMP kernel (measured: GELU 3x slower
 * right after a GEMM). Both read these at library load, so they are set before the addon loads;
 * values the user set are kept.
 */
function quietIdleThreads(): void {
  process.env.OPENBLAS_THREAD_TIMEOUT ??= "4";
  process.env.OMP_WAIT_POLICY ??= "passive";
}

function loadAddon(): Addon | string {
  quietIdleThreads();
  if (!existsSync(addonPath)) return `the native addon was not built (${HOW_TO_GET})`;
  try {
    return createRequire(import.meta.url)(addonPath) as Addon;
  } catch (e) {
    return `the native addon failed to load: ${(e as Error).message.split("\n")[0]} (${HOW_TO_GET})`;
  }
}

// OpenBLAS cores with AVX-512 kernels; a pinned core outside this set on an AVX-512 CPU is slower.
const AVX512_CORES = new Set(["skylakex", "cooperlake", "sapphirerapids"]);

/**
 * A note when OPENBLAS_CORETYPE pins a core older than the CPU (it halved GEMM speed where
 * measured); null otherwise. The CLI and the benchmarks print it; the library stays silent.
 */
export function coretypeWarning(): string | null {
  const info = nativeInfo();
  if (!info) return null;
  const pinned = process.env.OPENBLAS_CORETYPE;
  if (!pinned || info.blas !== "openblas") return null;
  let avx512 = false;
  try {
    avx512 = /\bavx512f\b/.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return null;
  }
  if (!avx512 || AVX512_CORES.has(pinned.toLowerCase())) return null;
  return `morelora: OPENBLAS_CORETYPE=${pinned} pins OpenBLAS to an older core than this AVX-512 CPU; unset it for faster GEMMs`;
}

/** The positional arguments of native/src/addon.cc's attention bindings. */
const attentionArgs = (t: AttentionArgs): unknown[] => [
  t.batch,
  t.heads,
  t.kvHeads,
  t.tq,
  t.tk,
  t.dim,
  t.scale,
  t.causal,
  t.window,
  t.keyMask,
  t.dropout,
  t.dropoutSeed,
  t.q,
  t.k,
  t.v,
  t.out,
  t.lse,
];

function wrap(addon: Addon): Backend {
  const a = addon;
  return {
    name: "native",
    gemm: (g) =>
      a.gemm(
        g.transA,
        g.transB,
        g.m,
        g.n,
        g.k,
        g.alpha,
        g.beta,
        g.a,
        g.offA,
        g.strideA,
        g.b,
        g.offB,
        g.strideB,
        g.c,
        g.offC,
        g.strideC,
        g.batch,
      ),
    binary: (op, x, xs, y, ys, out, shape) => a.binary(binaryCode.get(op), x, xs, y, ys, out, shape),
    unary: (op, x, out, p0 = 0, p1 = 0) => a.unary(unaryCode.get(op), x, out, p0, p1),
    unaryGrad: (op, x, y, gy, gx, p0 = 0, p1 = 0) => a.unaryGrad(unaryCode.get(op), x, y, gy, gx, p0, p1),
    gatedActivation: (act: GatedActivation, g, u, out) => a.gatedActivation(unaryCode.get(act), g, u, out),
    gatedActivationGrad: (act: GatedActivation, g, u, gy, gg, gu) =>
      a.gatedActivationGrad(unaryCode.get(act), g, u, gy, gg, gu),
    dropout: a.dropout,
    select: a.select,
    copyStrided: a.copyStrided,
    reduceSum: a.reduceSum,
    reduceMax: a.reduceMax,
    indexSelect: a.indexSelect,
    indexAdd: a.indexAdd,
    gather: a.gather,
    scatterAdd: a.scatterAdd,
    softmax: a.softmax,
    softmaxGrad: a.softmaxGrad,
    layerNorm: a.layerNorm,
    layerNormGrad: a.layerNormGrad,
    rmsNorm: a.rmsNorm,
    rmsNormGrad: a.rmsNormGrad,
    crossEntropy: a.crossEntropy,
    crossEntropyGrad: a.crossEntropyGrad,
    attention: (t) => a.attention(...attentionArgs(t)),
    attentionGrad: (t, dOut, dq, dk, dv) => a.attentionGrad(...attentionArgs(t), dOut, dq, dk, dv),
    rope: a.rope,
    rowNorm: a.rowNorm,
    rowNormGrad: a.rowNormGrad,
    adamw: (p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, o) =>
      a.adamw(p, g, m, v, o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, o.step),
  };
}

const loaded = loadAddon();

/** The native backend, or null where the addon is absent (setUnavailableNote says why). */
export const nativeBackend: Backend | null = typeof loaded === "string" ? null : wrap(loaded);

/** What the native addon reports (BLAS library, OpenBLAS core type, threads), or null when absent. */
export function nativeInfo(): NativeInfo | null {
  return typeof loaded === "string" ? null : loaded.info();
}

/** Sets the threads of the native kernels and of BLAS. */
export function setNativeThreads(n: number): void {
  if (typeof loaded === "string") throw new Error(`setNativeThreads: ${loaded}`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`threads must be a positive integer, got ${n}`);
  loaded.setThreads(n);
}

/**
 * Selects the GEMM: "blas" (the BLAS linked at build time), "builtin" (the built-in GEMM with the
 * fastest kernels this CPU runs) or one built-in kernel set by name (see NativeInfo.builtinGemms).
 * MORELORA_GEMM sets it at load; docs/performance.md compares them.
 */
export function setNativeGemm(name: string): void {
  if (typeof loaded === "string") throw new Error(`setNativeGemm: ${loaded}`);
  const info = loaded.info();
  const choices = [...(info.blas === "builtin" ? [] : ["blas"]), "builtin", ...info.builtinGemms];
  if (!choices.includes(name))
    throw new Error(`GEMM "${name}" is not in this build; expected one of ${choices.join(", ")}`);
  loaded.setGemm(name === "builtin" ? info.builtinGemms[0] : name);
}

/** One line naming the GEMM in use, e.g. "BLAS: openblas" or "BLAS: none, built-in GEMM (avx512)". */
export function gemmLabel(): string {
  const info = nativeInfo();
  if (!info) return "BLAS: none (TypeScript backend)";
  if (info.gemm === "blas") return `BLAS: ${info.blas}${info.coretype ? ` (${info.coretype})` : ""}`;
  const linked = info.blas === "builtin" ? "none" : `${info.blas} linked, not used`;
  return `BLAS: ${linked}; built-in GEMM (${info.gemm})`;
}

if (typeof loaded === "string") setUnavailableNote("native", loaded);
else {
  const env = process.env.MORELORA_THREADS;
  const threads = env ? Number(env) : availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`MORELORA_THREADS must be a positive integer, got "${env}"`);
  }
  loaded.setThreads(threads);
  const gemm = process.env.MORELORA_GEMM;
  if (gemm) {
    try {
      setNativeGemm(gemm);
    } catch (e) {
      throw new Error(`MORELORA_GEMM: ${(e as Error).message}`);
    }
  }
  registerBackend(nativeBackend!);
}
