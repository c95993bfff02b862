// GEMM: the platform BLAS found at build time, or the built-in GEMM (native/src/gemm_blocked.h)
// compiled for each instruction set and picked by the CPU at run time. Which one runs can be
// switched at run time, so the two can be compared in one process (docs/performance.md).
#pragma once
#include <cstring>
#include <vector>

#include "common.h"
#include "gemm_shape.h"

#ifdef MORELORA_HAVE_CBLAS
#ifdef MORELORA_ACCELERATE
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif
#endif

namespace morelora {

extern const BuiltinGemm kGemmPortable;
#if defined(__x86_64__) || defined(_M_X64)
extern const BuiltinGemm kGemmAvx2, kGemmAvx512;
#endif
#ifdef __aarch64__
extern const BuiltinGemm kGemmNeon;
#endif

// The built-in GEMMs this CPU can run, fastest first. __builtin_cpu_supports also checks that the
// operating system saves the vector registers.
inline const std::vector<const BuiltinGemm*>& builtinGemms() {
  static const std::vector<const BuiltinGemm*> list = [] {
    std::vector<const BuiltinGemm*> l;
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) l.push_back(&kGemmAvx512);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) l.push_back(&kGemmAvx2);
#endif
#ifdef __aarch64__
    l.push_back(&kGemmNeon);
#endif
    l.push_back(&kGemmPortable);
    return l;
  }();
  return list;
}

// The built-in GEMM in use, or null for the BLAS.
inline const BuiltinGemm*& activeGemm() {
#ifdef MORELORA_HAVE_CBLAS
  static const BuiltinGemm* active = nullptr;
#else
  static const BuiltinGemm* active = builtinGemms().front();
#endif
  return active;
}

// Selects "blas" (when linked) or a built-in GEMM by name; false if there is no such one here.
inline bool setGemm(const char* name) {
#ifdef MORELORA_HAVE_CBLAS
  if (std::strcmp(name, "blas") == 0) {
    activeGemm() = nullptr;
    return true;
  }
#endif
  for (const BuiltinGemm* g : builtinGemms())
    if (std::strcmp(name, g->name) == 0) {
      activeGemm() = g;
      return true;
    }
  return false;
}

inline void gemmOne(const GemmShape& g, const float* a, const float* b, float* c, bool threaded) {
#ifdef MORELORA_HAVE_CBLAS
  if (!activeGemm())
    return cblas_sgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans,
                       (int)g.m, (int)g.n, (int)g.k, (float)g.alpha, a, g.transA ? (int)g.m : (int)g.k, b,
                       g.transB ? (int)g.k : (int)g.n, (float)g.beta, c, (int)g.n);
#endif
  activeGemm()->sgemm(g, a, b, c, threaded);
}

inline void gemmOne(const GemmShape& g, const double* a, const double* b, double* c, bool threaded) {
#ifdef MORELORA_HAVE_CBLAS
  if (!activeGemm())
    return cblas_dgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans,
                       (int)g.m, (int)g.n, (int)g.k, g.alpha, a, g.transA ? (int)g.m : (int)g.k, b,
                       g.transB ? (int)g.k : (int)g.n, g.beta, c, (int)g.n);
#endif
  activeGemm()->dgemm(g, a, b, c, threaded);
}

// Products in a batch smaller than this many multiply-adds run one per thread (the built-in GEMM).
constexpr int64_t kBatchParallelMacs = 1 << 22;

template <typename T>
void gemm(const GemmShape& g, const T* a, int64_t strideA, const T* b, int64_t strideB, T* c, int64_t strideC,
          int64_t batch) {
  // A batch that shares B, with A and C contiguous, is one product with batch·m rows.
  if (batch > 1 && strideB == 0 && !g.transA && strideA == g.m * g.k && strideC == g.m * g.n) {
    GemmShape merged = g;
    merged.m *= batch;
    return gemmOne(merged, a, b, c, true);
  }
  const bool disjointC = strideC >= g.m * g.n;
  if (activeGemm() && batch > 1 && disjointC && g.m * g.n * g.k < kBatchParallelMacs) {
    parallelFor(batch, 2 * g.m * g.n * g.k,
                [&](int64_t i) { gemmOne(g, a + i * strideA, b + i * strideB, c + i * strideC, false); });
    return;
  }
  for (int64_t i = 0; i < batch; i++) gemmOne(g, a + i * strideA, b + i * strideB, c + i * strideC, true);
}

}  // namespace morelora
