// The shape of one GEMM call, C = alpha·op(A)·op(B) + beta·C, all row-major (see docs/performance.md).
// Plain data only: it is shared by the translation units compiled for different CPU features.
#pragma once
#include <cstdint>

namespace morelora {

struct GemmShape {
  bool transA, transB;
  int64_t m, n, k;
  double alpha, beta;
};

// One built-in GEMM compiled for one instruction set (native/src/gemm_blocked.h).
struct BuiltinGemm {
  const char* name;
  void (*sgemm)(const GemmShape&, const float* a, const float* b, float* c, bool threaded);
  void (*dgemm)(const GemmShape&, const double* a, const double* b, double* c, bool threaded);
};

}  // namespace morelora
