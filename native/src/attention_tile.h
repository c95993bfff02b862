// The register-tiled block product of the fused attention (native/src/attention.h,
// docs/attention.md): C (+)= A·B for the small blocks of one query block against one key block
// (scores Q·Kᵀ and dO·Vᵀ against packed keys, P·V, Pᵀ·dO, dSᵀ·Q, dS·K against rows in place).
// An RT × NV-vector tile of C stays in registers while the loop runs over the shared dimension:
// each step loads NV vectors of one B row and broadcasts RT entries of A, as the built-in GEMM's
// micro-kernel does (docs/performance.md), but A is read in place through any strides and B rows
// through a leading dimension, so nothing is packed that the attention did not pack already.
// Written with GCC/Clang vector extensions at the width this file is compiled for.
#pragma once
#include <cstdint>

namespace morelora {

#if defined(__AVX512F__)
constexpr int kTileBytes = 64;
#elif defined(__AVX__)
constexpr int kTileBytes = 32;
#else
constexpr int kTileBytes = 16;  // SSE2 (any x86-64) and NEON
#endif
constexpr int kTileRows = 4;     // RT: rows of C per tile
constexpr int kTileVectors = kTileBytes == 64 ? 4 : 2;  // NV: vectors of C per tile row

template <typename T>
struct TileVector;
template <>
struct TileVector<float> {
  typedef float V __attribute__((vector_size(kTileBytes)));
  typedef float Unaligned __attribute__((vector_size(kTileBytes), aligned(4)));
};
template <>
struct TileVector<double> {
  typedef double V __attribute__((vector_size(kTileBytes)));
  typedef double Unaligned __attribute__((vector_size(kTileBytes), aligned(8)));
};

// C[i][0, NV·W) (+)= Σ_p A(i, p)·B[p][0, NV·W) for the mr ≤ RT rows i of one tile, with
// A(i, p) = a[i·ars + p·acs], B row p at b + p·ldb and C row i at c + i·ldc.
template <typename T, int RT, int NV>
__attribute__((always_inline)) inline void tileProduct(int64_t kd, const T* a, int64_t ars, int64_t acs, int64_t mr,
                                                       const T* b, int64_t ldb, T* c, int64_t ldc, bool accumulate) {
  using V = typename TileVector<T>::V;
  using VU = typename TileVector<T>::Unaligned;
  constexpr int W = kTileBytes / sizeof(T);
  const T* rows[RT];
#pragma GCC unroll 8
  for (int r = 0; r < RT; r++) rows[r] = a + (r < mr ? r : 0) * ars;  // missing rows repeat row 0, not stored
  V acc[RT][NV];
#pragma GCC unroll 8
  for (int r = 0; r < RT; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[r][v] = V{};
  for (int64_t p = 0; p < kd; p++) {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) bv[v] = *reinterpret_cast<const VU*>(b + p * ldb + v * W);
#pragma GCC unroll 8
    for (int r = 0; r < RT; r++) {
      const T av = rows[r][p * acs];
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[r][v] += av * bv[v];
    }
  }
  for (int64_t r = 0; r < mr; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      VU* out = reinterpret_cast<VU*>(c + r * ldc + v * W);
      *out = accumulate ? V(*out) + acc[r][v] : acc[r][v];
    }
}

// C[m × n] (+)= A[m × kd]·B[kd × n] with the layouts of tileProduct: tiles of NV vectors, then of
// one vector, then single columns for an n that is not a multiple of the vector width.
template <typename T>
void blockProduct(int64_t m, int64_t n, int64_t kd, const T* a, int64_t ars, int64_t acs, const T* b, int64_t ldb,
                  T* c, int64_t ldc, bool accumulate) {
  constexpr int W = kTileBytes / sizeof(T), RT = kTileRows, NV = kTileVectors;
  int64_t j = 0;
  for (; j + NV * W <= n; j += NV * W)
    for (int64_t i = 0; i < m; i += RT)
      tileProduct<T, RT, NV>(kd, a + i * ars, ars, acs, m - i < RT ? m - i : RT, b + j, ldb, c + i * ldc + j, ldc,
                             accumulate);
  for (; j + W <= n; j += W)
    for (int64_t i = 0; i < m; i += RT)
      tileProduct<T, RT, 1>(kd, a + i * ars, ars, acs, m - i < RT ? m - i : RT, b + j, ldb, c + i * ldc + j, ldc,
                            accumulate);
  for (; j < n; j++)
    for (int64_t i = 0; i < m; i++) {
      T s = 0;
      for (int64_t p = 0; p < kd; p++) s += a[i * ars + p * acs] * b[p * ldb + j];
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
    }
}

}  // namespace morelora
