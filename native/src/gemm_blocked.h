// The built-in GEMM: packed and cache-blocked in the BLIS/GotoBLAS style (docs/performance.md).
//
// op(B) is packed into KC x NR column panels and op(A) into MR x KC row panels, zero-padded, so
// the micro-kernel runs one loop of rank-1 updates over an MR x NR register tile of C with no edge
// cases. Loops, outermost first: NC columns of C (the packed B block lives in L2/L3), KC steps of k,
// MC rows of C (one packed A block per thread), NR panels of B (one B micro-panel stays in L1
// while every MR panel of the A block streams past it), MR panels.
//
// This file is included by one gemm_<isa>.cc per instruction set, each compiled with its own
// flags; it is written with GCC/Clang vector extensions, so the same source becomes AVX-512,
// AVX2+FMA, NEON or SSE2 code. Before including it, a file defines MORELORA_GEMM_ISA (the
// namespace that keeps its copies apart: the linker must never mix them) and MORELORA_GEMM_BYTES
// (the vector width), then specializes Tiles<T> below. Nothing from the C++ standard library is
// instantiated here, for the same reason.
#pragma once
#include <cstdint>
#include <cstdlib>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "gemm_shape.h"

namespace morelora {
namespace MORELORA_GEMM_ISA {

constexpr int kBytes = MORELORA_GEMM_BYTES;

// Register tile (MR rows x NV vectors) and cache blocks of one element type; `Narrow` is the tile
// for n of one vector or less (the LoRA down-projection's rank).
// `Dot` is the rows x columns tile of C for narrowDot below.
template <typename T>
struct Tiles;
template <int MR_, int NV_, int KC_, int MC_, int NC_>
struct Tile {
  static constexpr int MR = MR_, NV = NV_, KC = KC_, MC = MC_, NC = NC_;
};
template <int RM_, int RN_>
struct DotTile {
  static constexpr int RM = RM_, RN = RN_;
};

// Vector types of T: aligned (packed panels) and unaligned (rows of C).
template <typename T>
struct Vectors;
template <>
struct Vectors<float> {
  typedef float Aligned __attribute__((vector_size(kBytes)));
  typedef float Unaligned __attribute__((vector_size(kBytes), aligned(4)));
};
template <>
struct Vectors<double> {
  typedef double Aligned __attribute__((vector_size(kBytes)));
  typedef double Unaligned __attribute__((vector_size(kBytes), aligned(8)));
};

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t lesser(int64_t a, int64_t b) { return a < b ? a : b; }

// A 64-byte aligned scratch buffer per thread, grown on demand and kept for the next call.
struct Scratch {
  void* data = nullptr;
  size_t bytes = 0;
  ~Scratch() { std::free(data); }
  template <typename T>
  T* get(int64_t count) {
    size_t want = ((size_t)count * sizeof(T) + 63) & ~(size_t)63;
    if (want > bytes) {
      std::free(data);
      data = std::aligned_alloc(64, want);
      bytes = data ? want : 0;
      if (!data) std::abort();
    }
    return static_cast<T*>(data);
  }
};
inline thread_local Scratch packedA, packedB;

// C[mr x nr] = alpha * sum_p A[:, p] B[p, :] + beta * C, from panels packed by packA/packB.
template <typename T, int MR, int NV>
__attribute__((always_inline)) inline void microKernel(int64_t kc, const T* __restrict ap, const T* __restrict bp,
                                                       T* __restrict c, int64_t ldc, int64_t mr, int64_t nr, T alpha,
                                                       T beta) {
  using V = typename Vectors<T>::Aligned;
  using VU = typename Vectors<T>::Unaligned;
  constexpr int W = kBytes / sizeof(T), NR = NV * W;
  V acc[MR][NV];
#pragma GCC unroll 32
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[r][v] = V{};
  for (int64_t p = 0; p < kc; p++) {
    V b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) b[v] = *reinterpret_cast<const V*>(bp + v * W);
#pragma GCC unroll 32
    for (int r = 0; r < MR; r++) {
      const T av = ap[r];
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[r][v] += av * b[v];
    }
    ap += MR;
    bp += NR;
  }
  if (mr == MR && nr == NR) {
#pragma GCC unroll 32
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) {
        VU* out = reinterpret_cast<VU*>(c + r * ldc + v * W);
        *out = beta == T(0) ? alpha * acc[r][v] : alpha * acc[r][v] + beta * V(*out);
      }
    return;
  }
  alignas(64) T tile[MR * NR];
#pragma GCC unroll 32
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) *reinterpret_cast<V*>(tile + r * NR + v * W) = acc[r][v];
  for (int64_t r = 0; r < mr; r++)
    for (int64_t j = 0; j < nr; j++) {
      T& out = c[r * ldc + j];
      out = beta == T(0) ? alpha * tile[r * NR + j] : alpha * tile[r * NR + j] + beta * out;
    }
}

// Packs rows [0, mc) x k-columns [0, kc) of a (element (i, p) at a[i*rs + p*cs]) into MR-row panels.
template <typename T, int MR>
void packA(const T* a, int64_t rs, int64_t cs, int64_t mc, int64_t kc, T* out) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR, out += MR * kc) {
    const int64_t mr = lesser(MR, mc - i0);
    if (cs == 1) {
      for (int64_t r = 0; r < mr; r++) {
        const T* src = a + (i0 + r) * rs;
        for (int64_t p = 0; p < kc; p++) out[p * MR + r] = src[p];
      }
    } else {
      for (int64_t p = 0; p < kc; p++) {
        const T* src = a + (i0)*rs + p * cs;
        for (int64_t r = 0; r < mr; r++) out[p * MR + r] = src[r * rs];
      }
    }
    for (int64_t r = mr; r < MR; r++)
      for (int64_t p = 0; p < kc; p++) out[p * MR + r] = T(0);
  }
}

// Packs the NR-column panel starting at column j0 of b (element (p, j) at b[p*rs + j*cs]).
template <typename T, int NR>
void packBPanel(const T* b, int64_t rs, int64_t cs, int64_t kc, int64_t nr, T* out) {
  if (cs == 1) {
    for (int64_t p = 0; p < kc; p++) {
      const T* src = b + p * rs;
      T* dst = out + p * NR;
      for (int64_t j = 0; j < nr; j++) dst[j] = src[j];
      for (int64_t j = nr; j < NR; j++) dst[j] = T(0);
    }
  } else {
    for (int64_t j = 0; j < nr; j++) {
      const T* src = b + j * cs;
      for (int64_t p = 0; p < kc; p++) out[p * NR + j] = src[p * rs];
    }
    for (int64_t p = 0; p < kc; p++)
      for (int64_t j = nr; j < NR; j++) out[p * NR + j] = T(0);
  }
}

// Below this many multiply-adds a GEMM runs on the calling thread: waking the pool costs more.
constexpr int64_t kThreadedMacs = 1 << 18;

template <typename T, typename Tl>
void blocked(const GemmShape& g, const T* a, const T* b, T* c, bool threaded) {
  constexpr int MR = Tl::MR, NR = Tl::NV * (kBytes / (int)sizeof(T)), KC = Tl::KC;
  const int64_t m = g.m, n = g.n, k = g.k;
  const T alpha = (T)g.alpha, beta = (T)g.beta;
  const int64_t ars = g.transA ? 1 : k, acs = g.transA ? m : 1;
  const int64_t brs = g.transB ? 1 : n, bcs = g.transB ? k : 1;
  int nt = 1;
#ifdef _OPENMP
  if (threaded && m * n * k >= kThreadedMacs) nt = omp_get_max_threads();
#endif
  // Threads split the MR panels of C's rows into equal contiguous ranges, or, when there are
  // fewer row panels than column panels, B's NR panels (each thread then packs all of A).
  const int64_t rowPanels = ceilDiv(m, MR);
  const bool splitRows = rowPanels >= ceilDiv(n, NR) || rowPanels >= 4 * nt;
  const int64_t ncMax = lesser(Tl::NC, ceilDiv(n, NR) * NR);
  const int64_t kcMax = lesser(KC, k);
  T* bpack = packedB.get<T>(kcMax * ncMax);

#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int t = 0;
#ifdef _OPENMP
    t = omp_get_thread_num();
#endif
    const int64_t rowBegin = splitRows ? rowPanels * t / nt * MR : 0;
    const int64_t rowEnd = splitRows ? lesser(m, rowPanels * (t + 1) / nt * MR) : m;
    T* apack = packedA.get<T>(lesser(Tl::MC, ceilDiv(m, MR) * MR) * kcMax);
    for (int64_t j0 = 0; j0 < n; j0 += Tl::NC) {
      const int64_t nc = lesser(Tl::NC, n - j0), panels = ceilDiv(nc, NR);
      const int64_t panelBegin = splitRows ? 0 : panels * t / nt, panelEnd = splitRows ? panels : panels * (t + 1) / nt;
      for (int64_t p0 = 0; p0 < k; p0 += KC) {
        const int64_t kc = lesser(KC, k - p0);
        const T betaNow = p0 == 0 ? beta : T(1);
#pragma omp for schedule(static)
        for (int64_t jp = 0; jp < panels; jp++)
          packBPanel<T, NR>(b + p0 * brs + (j0 + jp * NR) * bcs, brs, bcs, kc, lesser(NR, nc - jp * NR),
                            bpack + jp * kc * NR);
        for (int64_t i0 = rowBegin; i0 < rowEnd; i0 += Tl::MC) {
          const int64_t mc = lesser(Tl::MC, rowEnd - i0);
          packA<T, MR>(a + i0 * ars + p0 * acs, ars, acs, mc, kc, apack);
          for (int64_t jp = panelBegin; jp < panelEnd; jp++)
            for (int64_t ip = 0; ip < mc; ip += MR)
              microKernel<T, MR, Tl::NV>(kc, apack + ip * kc, bpack + jp * kc * NR, c + (i0 + ip) * n + j0 + jp * NR,
                                         n, lesser(MR, mc - ip), lesser(NR, nc - jp * NR), alpha, betaNow);
        }
#pragma omp barrier
      }
    }
  }
}

// Narrow products (n of a few vectors, as the LoRA down-projection's rank) with op(A) k-contiguous:
// packing A would cost as much as the product, so each RM x RN tile of C takes dot products of A's
// rows, read in place, with columns of B (op(B) transposed into a k-contiguous copy when needed),
// in the manner of llamafile's tinyBLAS. Accumulators run along k and are summed at the end.
template <typename T, int RM, int RN>
__attribute__((always_inline)) inline void dotTile(const T* a, int64_t lda, const T* bt, int64_t ldb, int64_t k,
                                                   T* c, int64_t ldc, int64_t rm, int64_t rn, T alpha, T beta) {
  using V = typename Vectors<T>::Aligned;
  using VU = typename Vectors<T>::Unaligned;
  constexpr int W = kBytes / sizeof(T);
  const T* rows[RM];
  const T* cols[RN];
  for (int r = 0; r < RM; r++) rows[r] = a + (r < rm ? r : 0) * lda;
  for (int j = 0; j < RN; j++) cols[j] = bt + (j < rn ? j : 0) * ldb;
  V acc[RM][RN];
#pragma GCC unroll 8
  for (int r = 0; r < RM; r++)
#pragma GCC unroll 8
    for (int j = 0; j < RN; j++) acc[r][j] = V{};
  int64_t p = 0;
  for (; p + W <= k; p += W) {
    V bv[RN];
#pragma GCC unroll 8
    for (int j = 0; j < RN; j++) bv[j] = *reinterpret_cast<const VU*>(cols[j] + p);
#pragma GCC unroll 8
    for (int r = 0; r < RM; r++) {
      const V av = *reinterpret_cast<const VU*>(rows[r] + p);
#pragma GCC unroll 8
      for (int j = 0; j < RN; j++) acc[r][j] += av * bv[j];
    }
  }
  for (int64_t r = 0; r < rm; r++)
    for (int64_t j = 0; j < rn; j++) {
      T sum = 0;
      for (int l = 0; l < W; l++) sum += acc[r][j][l];
      for (int64_t q = p; q < k; q++) sum += rows[r][q] * cols[j][q];
      T& out = c[r * ldc + j];
      out = beta == T(0) ? alpha * sum : alpha * sum + beta * out;
    }
}

template <typename T, int RM, int RN>
void narrowDot(const GemmShape& g, const T* a, const T* b, T* c, bool threaded) {
  const int64_t m = g.m, n = g.n, k = g.k;
  const T alpha = (T)g.alpha, beta = (T)g.beta;
  const T* bt = b;  // op(B) transposed, [n, k]
  if (!g.transB) {
    T* copy = packedB.get<T>(n * k);
    for (int64_t p = 0; p < k; p++)
      for (int64_t j = 0; j < n; j++) copy[j * k + p] = b[p * n + j];
    bt = copy;
  }
  const int64_t tiles = ceilDiv(m, RM);
  int nt = 1;
#ifdef _OPENMP
  if (threaded && m * n * k >= kThreadedMacs) nt = omp_get_max_threads();
#endif
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t t = 0; t < tiles; t++) {
    const int64_t i0 = t * RM, rm = lesser(RM, m - i0);
    for (int64_t j0 = 0; j0 < n; j0 += RN)
      dotTile<T, RM, RN>(a + i0 * k, k, bt + j0 * k, k, k, c + i0 * n + j0, n, rm, lesser(RN, n - j0), alpha, beta);
  }
}

template <typename T>
void scaleOnly(const GemmShape& g, T* c) {
  const int64_t size = g.m * g.n;
  const T beta = (T)g.beta;
  for (int64_t i = 0; i < size; i++) c[i] = beta == T(0) ? T(0) : beta * c[i];
}

template <typename T>
void gemmBuiltin(const GemmShape& g, const T* a, const T* b, T* c, bool threaded) {
  if (g.m == 0 || g.n == 0) return;
  if (g.k == 0 || g.alpha == 0) return scaleOnly(g, c);
  if (!g.transA && g.n * (int64_t)sizeof(T) <= 2 * kBytes && g.k * (int64_t)sizeof(T) >= 4 * kBytes)
    narrowDot<T, Tiles<T>::Dot::RM, Tiles<T>::Dot::RN>(g, a, b, c, threaded);
  else if (g.n * (int64_t)sizeof(T) <= kBytes)
    blocked<T, typename Tiles<T>::Narrow>(g, a, b, c, threaded);
  else
    blocked<T, typename Tiles<T>::Main>(g, a, b, c, threaded);
}

}  // namespace MORELORA_GEMM_ISA
}  // namespace morelora
