// GEMM: a system CBLAS when one was found at build time, else a blocked, vectorizable loop nest.
#pragma once
#include <algorithm>
#include <cstring>
#include <vector>

#include "common.h"

#ifdef MORELORA_HAVE_CBLAS
#include <cblas.h>
#endif

namespace morelora {

struct GemmShape {
  bool transA, transB;
  int64_t m, n, k;
  double alpha, beta;
};

#ifdef MORELORA_HAVE_CBLAS
inline void gemmOne(const GemmShape& g, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans, (int)g.m,
              (int)g.n, (int)g.k, (float)g.alpha, a, g.transA ? (int)g.m : (int)g.k, b, g.transB ? (int)g.k : (int)g.n,
              (float)g.beta, c, (int)g.n);
}
inline void gemmOne(const GemmShape& g, const double* a, const double* b, double* c) {
  cblas_dgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans, (int)g.m,
              (int)g.n, (int)g.k, g.alpha, a, g.transA ? (int)g.m : (int)g.k, b, g.transB ? (int)g.k : (int)g.n, g.beta,
              c, (int)g.n);
}
#else
// Packs op(B) in KC x NC panels and runs rows of op(A) over them; the inner j loop vectorizes.
template <typename T>
void gemmOne(const GemmShape& g, const T* a, const T* b, T* c) {
  const int64_t m = g.m, n = g.n, k = g.k;
  if (g.beta == 0)
    std::fill_n(c, m * n, T(0));
  else if (g.beta != 1)
    for (int64_t i = 0; i < m * n; i++) c[i] *= (T)g.beta;
  if (k == 0 || g.alpha == 0) return;
  constexpr int64_t KC = 256, NC = 512;
  const int64_t aRow = g.transA ? 1 : k, aCol = g.transA ? m : 1;
  const int64_t bRow = g.transB ? 1 : n, bCol = g.transB ? k : 1;
  std::vector<T> panel(KC * NC);
  for (int64_t j0 = 0; j0 < n; j0 += NC) {
    const int64_t nb = std::min(NC, n - j0);
    for (int64_t p0 = 0; p0 < k; p0 += KC) {
      const int64_t kb = std::min(KC, k - p0);
      for (int64_t p = 0; p < kb; p++)
        for (int64_t j = 0; j < nb; j++) panel[p * nb + j] = b[(p0 + p) * bRow + (j0 + j) * bCol];
      const T* pan = panel.data();
      parallelFor(m, kb * nb, [&](int64_t i) {
        T* crow = c + i * n + j0;
        for (int64_t p = 0; p < kb; p++) {
          const T av = (T)g.alpha * a[i * aRow + (p0 + p) * aCol];
          const T* brow = pan + p * nb;
          for (int64_t j = 0; j < nb; j++) crow[j] += av * brow[j];
        }
      });
    }
  }
}
#endif

template <typename T>
void gemm(const GemmShape& g, const T* a, int64_t strideA, const T* b, int64_t strideB, T* c, int64_t strideC,
          int64_t batch) {
  for (int64_t i = 0; i < batch; i++) gemmOne(g, a + i * strideA, b + i * strideB, c + i * strideC);
}

}  // namespace morelora
