// Fused, blocked attention (docs/attention.md): the forward keeps only the output and
// each query's log-sum-exp (online softmax over key blocks); the backward beside it recomputes the
// probabilities block by block (FlashAttention-2: D = rowsum(dO∘O), dS = P∘(dP − D)). Nothing of size
// [tq, tk] is ever allocated. Layouts and the visibility rule are those of AttentionArgs in
// src/backend/backend.ts, and src/backend/js/attention.ts is the reference it is tested against.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common.h"
#include "fastmath.h"

namespace morelora {

struct AttentionShape {
  int64_t batch, heads, kvHeads, tq, tk, dim;
  double scale;
  bool causal;
  int64_t window;            // 0: no sliding window
  const int32_t* keyMask;    // [batch, tk] or null
};

constexpr int64_t kAttnRows = 32;  // queries per block
constexpr int64_t kAttnCols = 64;  // keys per block: the width of the vectorized score loops

// The keys [from, to) the query at position pos may see before the padding mask.
inline void keyRange(const AttentionShape& s, int64_t pos, int64_t& from, int64_t& to) {
  to = s.causal ? std::min(s.tk, pos + 1) : s.tk;
  from = s.window > 0 ? std::max<int64_t>(0, pos - s.window + 1) : 0;
}

// One query block against one key block: which keys each row sees, the scores, and the packed keys.
template <typename T>
struct AttentionTile {
  const AttentionShape& s;
  std::vector<T> kt;  // [dim][kAttnCols]: the key block transposed, zero past its end
  std::vector<T> S;   // [kAttnRows][kAttnCols]
  explicit AttentionTile(const AttentionShape& shape)
      : s(shape), kt(shape.dim * kAttnCols), S(kAttnRows * kAttnCols) {}

  // Packs rows j0..j0+nc of a [tk, rowStride] matrix transposed into dst.
  void pack(const T* rows, int64_t rowStride, int64_t j0, int64_t nc, T* dst) const {
    for (int64_t c = 0; c < kAttnCols; c++)
      for (int64_t d = 0; d < s.dim; d++) dst[d * kAttnCols + c] = c < nc ? rows[(j0 + c) * rowStride + d] : T(0);
  }

  // out[c] = Σ_d x[d]·packed[d][c] for every c of the block.
  void rowTimesPacked(const T* x, const T* packed, T* out) const {
    T acc[kAttnCols] = {};
    for (int64_t d = 0; d < s.dim; d++) {
      const T xd = x[d];
      const T* p = packed + d * kAttnCols;
#pragma omp simd
      for (int64_t c = 0; c < kAttnCols; c++) acc[c] += xd * p[c];
    }
    for (int64_t c = 0; c < kAttnCols; c++) out[c] = acc[c];
  }

  // Scaled scores of query row q (at position pos of batch b) against keys j0..j0+nc; −∞ where hidden.
  void scores(const T* q, int64_t b, int64_t pos, int64_t j0, int64_t nc, T* row) const {
    rowTimesPacked(q, kt.data(), row);
    int64_t from, to;
    keyRange(s, pos, from, to);
    const T ninf = -std::numeric_limits<T>::infinity();
    const int32_t* mask = s.keyMask ? s.keyMask + b * s.tk : nullptr;
    for (int64_t c = 0; c < kAttnCols; c++) {
      const int64_t j = j0 + c;
      const bool visible = c < nc && j >= from && j < to && (!mask || mask[j] != 0);
      row[c] = visible ? row[c] * T(s.scale) : ninf;
    }
  }
};

// y[d] += Σ_i coef(i)·row(i)[d] over n rows, four rows per pass so y is loaded and stored a
// quarter as often (these updates are bound by memory traffic, not arithmetic).
template <typename T, typename Row, typename Coef>
inline void accumulateRows(int64_t D, int64_t n, T* y, Row row, Coef coef) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const T a0 = coef(i), a1 = coef(i + 1), a2 = coef(i + 2), a3 = coef(i + 3);
    const T *x0 = row(i), *x1 = row(i + 1), *x2 = row(i + 2), *x3 = row(i + 3);
#pragma omp simd
    for (int64_t d = 0; d < D; d++) y[d] += a0 * x0[d] + a1 * x1[d] + a2 * x2[d] + a3 * x3[d];
  }
  for (; i < n; i++) {
    const T a = coef(i);
    const T* x = row(i);
#pragma omp simd
    for (int64_t d = 0; d < D; d++) y[d] += a * x[d];
  }
}

// Runs body(unit) for units 0..n-1 across threads, each thread with its own scratch from make().
template <typename Make, typename Body>
void attentionParallel(int64_t n, Make make, Body body) {
#ifdef _OPENMP
#pragma omp parallel if (n > 1)
  {
    auto scratch = make();
#pragma omp for schedule(dynamic)
    for (int64_t u = 0; u < n; u++) body(scratch, u);
  }
#else
  auto scratch = make();
  for (int64_t u = 0; u < n; u++) body(scratch, u);
#endif
}

template <typename T>
void attentionForward(const AttentionShape& s, const T* q, const T* k, const T* v, T* out, T* lse) {
  const int64_t D = s.dim, group = s.heads / s.kvHeads, blocks = (s.tq + kAttnRows - 1) / kAttnRows;
  const int64_t qStride = s.heads * D, kvStride = s.kvHeads * D;
  const T ninf = -std::numeric_limits<T>::infinity();
  struct Scratch {
    AttentionTile<T> tile;
    std::vector<T> o, m, l;
  };
  attentionParallel(
      s.batch * s.heads * blocks,
      [&] { return Scratch{AttentionTile<T>(s), std::vector<T>(kAttnRows * D), std::vector<T>(kAttnRows),
                           std::vector<T>(kAttnRows)}; },
      [&](Scratch& w, int64_t unit) {
        const int64_t b = unit / (s.heads * blocks), h = unit / blocks % s.heads, i0 = unit % blocks * kAttnRows;
        const int64_t nr = std::min(kAttnRows, s.tq - i0), offset = s.tk - s.tq;
        const T* qRows = q + (b * s.tq * s.heads + h) * D;
        const T* kRows = k + (b * s.tk * s.kvHeads + h / group) * D;
        const T* vRows = v + (b * s.tk * s.kvHeads + h / group) * D;
        std::fill(w.o.begin(), w.o.end(), T(0));
        std::fill(w.m.begin(), w.m.end(), ninf);
        std::fill(w.l.begin(), w.l.end(), T(0));
        int64_t from, to, unused;
        keyRange(s, offset + i0, from, unused);
        keyRange(s, offset + i0 + nr - 1, unused, to);
        for (int64_t j0 = from; j0 < to; j0 += kAttnCols) {
          const int64_t nc = std::min(kAttnCols, to - j0);
          w.tile.pack(kRows, kvStride, j0, nc, w.tile.kt.data());
          for (int64_t r = 0; r < nr; r++) {
            T* row = w.tile.S.data() + r * kAttnCols;
            w.tile.scores(qRows + (i0 + r) * qStride, b, offset + i0 + r, j0, nc, row);
            T mx = ninf;
            // A NaN score wins both maxima, so the row comes out NaN instead of being dropped.
            for (int64_t c = 0; c < kAttnCols; c++) mx = row[c] > mx || row[c] != row[c] ? row[c] : mx;
            const T mNew = mx > w.m[r] || mx != mx ? mx : w.m[r];
            if (mNew == ninf) continue;  // nothing visible yet
            const T alpha = w.m[r] == ninf ? T(0) : expT(w.m[r] - mNew);
            T sum = 0;
#pragma omp simd reduction(+ : sum)
            for (int64_t c = 0; c < kAttnCols; c++) {
              const T p = row[c] == ninf ? T(0) : expT(row[c] - mNew);
              row[c] = p;
              sum += p;
            }
            T* o = w.o.data() + r * D;
            if (alpha != T(1))
              for (int64_t d = 0; d < D; d++) o[d] *= alpha;
            accumulateRows(
                D, nc, o, [&](int64_t c) { return vRows + (j0 + c) * kvStride; }, [&](int64_t c) { return row[c]; });
            w.l[r] = w.l[r] * alpha + sum;
            w.m[r] = mNew;
          }
        }
        for (int64_t r = 0; r < nr; r++) {
          T* dst = out + ((b * s.tq + i0 + r) * s.heads + h) * D;
          const T inv = w.l[r] == T(0) ? T(0) : T(1) / w.l[r];
          for (int64_t d = 0; d < D; d++) dst[d] = w.o[r * D + d] * inv;
          lse[(b * s.heads + h) * s.tq + i0 + r] = w.l[r] == T(0) ? ninf : w.m[r] + std::log(w.l[r]);
        }
      });
}

// One thread owns a (batch, key/value head) pair: its dk and dv rows, and the dq rows of the query
// heads that read it, so no two threads write the same memory.
template <typename T>
void attentionBackward(const AttentionShape& s, const T* q, const T* k, const T* v, const T* out, const T* lse,
                       const T* dOut, T* dq, T* dk, T* dv) {
  const int64_t D = s.dim, group = s.heads / s.kvHeads, blocks = (s.tq + kAttnRows - 1) / kAttnRows;
  const int64_t qStride = s.heads * D, kvStride = s.kvHeads * D, offset = s.tk - s.tq;
  const T ninf = -std::numeric_limits<T>::infinity();
  struct Scratch {
    AttentionTile<T> tile;
    std::vector<T> vt, dP, dqAcc, rowD;
  };
  attentionParallel(
      s.batch * s.kvHeads,
      [&] {
        return Scratch{AttentionTile<T>(s), std::vector<T>(D * kAttnCols), std::vector<T>(kAttnRows * kAttnCols),
                       std::vector<T>(kAttnRows * D), std::vector<T>(kAttnRows)};
      },
      [&](Scratch& w, int64_t unit) {
        const int64_t b = unit / s.kvHeads, kvh = unit % s.kvHeads;
        const T* kRows = k + (b * s.tk * s.kvHeads + kvh) * D;
        const T* vRows = v + (b * s.tk * s.kvHeads + kvh) * D;
        T* dkRows = dk + (b * s.tk * s.kvHeads + kvh) * D;
        T* dvRows = dv + (b * s.tk * s.kvHeads + kvh) * D;
        for (int64_t j = 0; j < s.tk; j++) {
          std::fill(dkRows + j * kvStride, dkRows + j * kvStride + D, T(0));
          std::fill(dvRows + j * kvStride, dvRows + j * kvStride + D, T(0));
        }
        for (int64_t h = kvh * group; h < (kvh + 1) * group; h++) {
          const int64_t rowBase = (b * s.tq * s.heads + h) * D;
          const T* L = lse + (b * s.heads + h) * s.tq;
          for (int64_t i0 = 0; i0 < s.tq; i0 += kAttnRows) {
            const int64_t nr = std::min(kAttnRows, s.tq - i0);
            for (int64_t r = 0; r < nr; r++) {
              const T* o = out + rowBase + (i0 + r) * qStride;
              const T* g = dOut + rowBase + (i0 + r) * qStride;
              T acc = 0;
              for (int64_t d = 0; d < D; d++) acc += g[d] * o[d];
              w.rowD[r] = acc;
            }
            std::fill(w.dqAcc.begin(), w.dqAcc.end(), T(0));
            int64_t from, to, unused;
            keyRange(s, offset + i0, from, unused);
            keyRange(s, offset + i0 + nr - 1, unused, to);
            for (int64_t j0 = from; j0 < to; j0 += kAttnCols) {
              const int64_t nc = std::min(kAttnCols, to - j0);
              w.tile.pack(kRows, kvStride, j0, nc, w.tile.kt.data());
              w.tile.pack(vRows, kvStride, j0, nc, w.vt.data());
              for (int64_t r = 0; r < nr; r++) {
                T* P = w.tile.S.data() + r * kAttnCols;
                T* dS = w.dP.data() + r * kAttnCols;
                const T Lr = L[i0 + r];
                if (Lr == ninf) {  // a query that sees no key has no gradient
                  std::fill(P, P + kAttnCols, T(0));
                  std::fill(dS, dS + kAttnCols, T(0));
                  continue;
                }
                const int64_t row = rowBase + (i0 + r) * qStride;
                w.tile.scores(q + row, b, offset + i0 + r, j0, nc, P);
                w.tile.rowTimesPacked(dOut + row, w.vt.data(), dS);
                const T Dr = w.rowD[r], scale = T(s.scale);
#pragma omp simd
                for (int64_t c = 0; c < kAttnCols; c++) {
                  const T p = P[c] == ninf ? T(0) : expT(P[c] - Lr);
                  P[c] = p;
                  dS[c] = p * (dS[c] - Dr) * scale;
                }
              }
              const T* qBlock = q + rowBase + i0 * qStride;
              const T* gBlock = dOut + rowBase + i0 * qStride;
              for (int64_t c = 0; c < nc; c++) {
                // dv_j += Σ_r P[r][j]·dO_r and dk_j += Σ_r dS[r][j]·q_r
                accumulateRows(
                    D, nr, dvRows + (j0 + c) * kvStride, [&](int64_t r) { return gBlock + r * qStride; },
                    [&](int64_t r) { return w.tile.S[r * kAttnCols + c]; });
                accumulateRows(
                    D, nr, dkRows + (j0 + c) * kvStride, [&](int64_t r) { return qBlock + r * qStride; },
                    [&](int64_t r) { return w.dP[r * kAttnCols + c]; });
              }
              for (int64_t r = 0; r < nr; r++)  // dq_r += Σ_j dS[r][j]·k_j
                accumulateRows(
                    D, nc, w.dqAcc.data() + r * D, [&](int64_t c) { return kRows + (j0 + c) * kvStride; },
                    [&](int64_t c) { return w.dP[r * kAttnCols + c]; });
            }
            for (int64_t r = 0; r < nr; r++)
              std::copy(w.dqAcc.data() + r * D, w.dqAcc.data() + (r + 1) * D, dq + rowBase + (i0 + r) * qStride);
          }
        }
      });
}

}  // namespace morelora
