// Fused, blocked attention (docs/attention.md): the forward keeps only the output and
// each query's log-sum-exp (online softmax over key blocks); the backward beside it recomputes the
// probabilities block by block (FlashAttention-2: D = rowsum(dO∘O), dS = P∘(dP − D)). Nothing of size
// [tq, tk] is ever allocated. Layouts, the visibility rule and the dropout of the probabilities are those
// of AttentionArgs in src/backend/backend.ts, and src/backend/js/attention.ts is the reference it is
// tested against.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "attention_tile.h"
#include "common.h"
#include "dropout_mask.h"
#include "fastmath.h"

namespace morelora {

struct AttentionShape {
  int64_t batch, heads, kvHeads, tq, tk, dim;
  double scale;
  bool causal;
  int64_t window;            // 0: no sliding window
  const int32_t* keyMask;    // [batch, tk] or null
  double dropout;            // probability of dropping an attention probability; 0: none
  uint32_t dropoutSeed;
};

constexpr int64_t kAttnRows = 32;  // queries per block
constexpr int64_t kAttnCols = 64;  // keys per block: the width of the vectorized score loops

// The keys [from, to) the query at position pos may see before the padding mask.
inline void keyRange(const AttentionShape& s, int64_t pos, int64_t& from, int64_t& to) {
  to = s.causal ? std::min(s.tk, pos + 1) : s.tk;
  from = s.window > 0 ? std::max<int64_t>(0, pos - s.window + 1) : 0;
}

// The keys (or values) of one (batch, key/value head) transposed, [dim][tk rounded up to blocks],
// packed a key block at a time when first needed and kept for the next query block or head that
// reads the same one (the units of a thread mostly follow each other in that order).
template <typename T>
struct TransposedKeys {
  const AttentionShape& s;
  int64_t ld, owner = -1;
  std::vector<T> data;
  std::vector<char> packed;  // per key block
  explicit TransposedKeys(const AttentionShape& shape)
      : s(shape),
        ld((shape.tk + kAttnCols - 1) / kAttnCols * kAttnCols),
        data(shape.dim * ld),
        packed(ld / kAttnCols) {}

  // Columns j0.. (j0 a multiple of kAttnCols) of the transposed rows of the [tk, rowStride] matrix
  // `rows`, which belong to `unit`; zero past tk.
  const T* block(int64_t unit, const T* rows, int64_t rowStride, int64_t j0) {
    if (unit != owner) {
      owner = unit;
      std::fill(packed.begin(), packed.end(), 0);
    }
    T* dst = data.data() + j0;
    if (!packed[j0 / kAttnCols]) {
      packed[j0 / kAttnCols] = 1;
      const int64_t nc = std::min(kAttnCols, s.tk - j0);
      // Row by row of the destination: its stores are contiguous, and the block's key rows stay in L1.
      for (int64_t d = 0; d < s.dim; d++) {
        T* out = dst + d * ld;
        const T* in = rows + j0 * rowStride + d;
        for (int64_t c = 0; c < nc; c++) out[c] = in[c * rowStride];
        for (int64_t c = nc; c < kAttnCols; c++) out[c] = T(0);
      }
    }
    return dst;
  }
};

// nr rows of scores (or of dO·vᵀ) against one key block: out[r][c] = Σ_d x_r[d]·packed[d][c] for
// rows x_r of stride rowStride and every c of the block.
template <typename T>
void timesPacked(const TransposedKeys<T>& keys, const T* x, int64_t rowStride, int64_t nr, const T* packed, T* out) {
  blockProduct(nr, kAttnCols, keys.s.dim, x, rowStride, int64_t(1), packed, keys.ld, out, kAttnCols, false);
}

// Scales the raw scores of the query at position pos (of batch b) against the key block at j0;
// −∞ for the keys it may not see (outside its range or padding).
template <typename T>
void maskRow(const AttentionShape& s, int64_t b, int64_t pos, int64_t j0, T* row) {
  int64_t from, to;
  keyRange(s, pos, from, to);
  const int64_t lo = std::clamp<int64_t>(from - j0, 0, kAttnCols);
  const int64_t hi = std::clamp<int64_t>(to - j0, lo, kAttnCols);
  const T ninf = -std::numeric_limits<T>::infinity(), scale = T(s.scale);
  for (int64_t c = 0; c < lo; c++) row[c] = ninf;
#pragma omp simd
  for (int64_t c = lo; c < hi; c++) row[c] *= scale;
  for (int64_t c = hi; c < kAttnCols; c++) row[c] = ninf;
  if (s.keyMask) {
    const int32_t* mask = s.keyMask + b * s.tk + j0;
    for (int64_t c = lo; c < hi; c++)
      if (mask[c] == 0) row[c] = ninf;
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
  const DropoutMask<T> drop(s.dropout, s.dropoutSeed);
  struct Scratch {
    TransposedKeys<T> kt;
    std::vector<T> S, o, m, l;
  };
  attentionParallel(
      s.batch * s.heads * blocks,
      [&] {
        return Scratch{TransposedKeys<T>(s), std::vector<T>(kAttnRows * kAttnCols), std::vector<T>(kAttnRows * D),
                       std::vector<T>(kAttnRows), std::vector<T>(kAttnRows)};
      },
      [&](Scratch& w, int64_t unit) {
        const int64_t b = unit / (s.heads * blocks), h = unit / blocks % s.heads, i0 = unit % blocks * kAttnRows;
        const int64_t nr = std::min(kAttnRows, s.tq - i0), offset = s.tk - s.tq, kvUnit = b * s.kvHeads + h / group;
        const int64_t lseRow = (b * s.heads + h) * s.tq + i0;
        const T* qRows = q + (b * s.tq * s.heads + h) * D;
        const T* kRows = k + (b * s.tk * s.kvHeads + h / group) * D;
        const T* vRows = v + (b * s.tk * s.kvHeads + h / group) * D;
        std::fill(w.o.begin(), w.o.end(), T(0));
        std::fill(w.m.begin(), w.m.end(), ninf);
        std::fill(w.l.begin(), w.l.end(), T(0));
        int64_t from, to, unused;
        keyRange(s, offset + i0, from, unused);
        keyRange(s, offset + i0 + nr - 1, unused, to);
        for (int64_t j0 = from / kAttnCols * kAttnCols; j0 < to; j0 += kAttnCols) {
          const int64_t nc = std::min(kAttnCols, to - j0);
          timesPacked(w.kt, qRows + i0 * qStride, qStride, nr, w.kt.block(kvUnit, kRows, kvStride, j0), w.S.data());
          for (int64_t r = 0; r < nr; r++) {
            T* row = w.S.data() + r * kAttnCols;
            maskRow(s, b, offset + i0 + r, j0, row);
            T mx = ninf;
            bool nan = false;  // a NaN score makes the row NaN instead of being dropped
#pragma omp simd reduction(max : mx) reduction(| : nan)
            for (int64_t c = 0; c < kAttnCols; c++) {
              mx = row[c] > mx ? row[c] : mx;
              nan |= row[c] != row[c];
            }
            if (nan) mx = std::numeric_limits<T>::quiet_NaN();
            const T mNew = mx > w.m[r] || mx != mx ? mx : w.m[r];
            if (mNew == ninf) {  // nothing visible yet: the row adds nothing to the P·V product
              std::fill(row, row + kAttnCols, T(0));
              continue;
            }
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
#pragma omp simd
              for (int64_t d = 0; d < D; d++) o[d] *= alpha;
            w.l[r] = w.l[r] * alpha + sum;
            w.m[r] = mNew;
          }
          if (s.dropout > 0)  // the row sums keep the undropped probabilities; only P·V sees the mask
            for (int64_t r = 0; r < nr; r++) drop.apply(lseRow + r, j0, nc, w.S.data() + r * kAttnCols);
          // O += P·V over the block's keys (rows of V read in place).
          blockProduct(nr, D, nc, w.S.data(), kAttnCols, int64_t(1), vRows + j0 * kvStride, kvStride, w.o.data(), D,
                       true);
        }
        for (int64_t r = 0; r < nr; r++) {
          T* dst = out + ((b * s.tq + i0 + r) * s.heads + h) * D;
          const T inv = w.l[r] == T(0) ? T(0) : T(1) / w.l[r];
          for (int64_t d = 0; d < D; d++) dst[d] = w.o[r * D + d] * inv;
          lse[lseRow + r] = w.l[r] == T(0) ? ninf : w.m[r] + std::log(w.l[r]);
        }
      });
}

// A unit of work is a (batch, key/value head) pair, or, when there are too few pairs to keep every
// thread busy, a range of its key blocks. A unit owns the dk and dv rows of its keys; a whole pair
// also owns the dq rows of the query heads that read it, while a key range adds its part of those
// into a copy of dq private to its thread, and the copies are summed at the end. So no two threads
// write the same memory.
template <typename T>
void attentionBackward(const AttentionShape& s, const T* q, const T* k, const T* v, const T* out, const T* lse,
                       const T* dOut, T* dq, T* dk, T* dv) {
  const int64_t D = s.dim, group = s.heads / s.kvHeads;
  const int64_t qStride = s.heads * D, kvStride = s.kvHeads * D, offset = s.tk - s.tq;
  const int64_t pairs = s.batch * s.kvHeads, keyBlocks = (s.tk + kAttnCols - 1) / kAttnCols;
  const int64_t qSize = s.batch * s.tq * qStride;
  int threads = 1;
#ifdef _OPENMP
  threads = omp_get_max_threads();
#endif
  const int64_t wanted = 4 * threads;  // units per thread enough to even out causal rows of unequal length
  const int64_t ranges = pairs >= wanted ? 1 : std::max<int64_t>(1, std::min(keyBlocks, (wanted + pairs - 1) / pairs));
  std::vector<T> dqCopies(ranges > 1 ? threads * qSize : 0);
  const T ninf = -std::numeric_limits<T>::infinity();
  const DropoutMask<T> drop(s.dropout, s.dropoutSeed);
  struct Scratch {
    TransposedKeys<T> kt, vt;
    std::vector<T> P, dS, dqAcc, rowD;
  };
  attentionParallel(
      pairs * ranges,
      [&] {
        return Scratch{TransposedKeys<T>(s), TransposedKeys<T>(s), std::vector<T>(kAttnRows * kAttnCols),
                       std::vector<T>(kAttnRows * kAttnCols), std::vector<T>(kAttnRows * D),
                       std::vector<T>(kAttnRows)};
      },
      [&](Scratch& w, int64_t unit) {
        const int64_t pair = unit / ranges, range = unit % ranges, b = pair / s.kvHeads, kvh = pair % s.kvHeads;
        // This unit's keys [keyFrom, keyTo), whole blocks.
        const int64_t keyFrom = keyBlocks * range / ranges * kAttnCols;
        const int64_t keyTo = std::min(s.tk, keyBlocks * (range + 1) / ranges * kAttnCols);
        int thread = 0;
#ifdef _OPENMP
        thread = omp_get_thread_num();
#endif
        T* dqOut = ranges > 1 ? dqCopies.data() + thread * qSize : dq;
        const T* kRows = k + (b * s.tk * s.kvHeads + kvh) * D;
        const T* vRows = v + (b * s.tk * s.kvHeads + kvh) * D;
        T* dkRows = dk + (b * s.tk * s.kvHeads + kvh) * D;
        T* dvRows = dv + (b * s.tk * s.kvHeads + kvh) * D;
        for (int64_t j = keyFrom; j < keyTo; j++) {
          std::fill(dkRows + j * kvStride, dkRows + j * kvStride + D, T(0));
          std::fill(dvRows + j * kvStride, dvRows + j * kvStride + D, T(0));
        }
        for (int64_t h = kvh * group; h < (kvh + 1) * group; h++) {
          const int64_t rowBase = (b * s.tq * s.heads + h) * D;
          const int64_t lseRow = (b * s.heads + h) * s.tq;
          const T* L = lse + lseRow;
          for (int64_t i0 = 0; i0 < s.tq; i0 += kAttnRows) {
            const int64_t nr = std::min(kAttnRows, s.tq - i0);
            int64_t from, to, unused;
            keyRange(s, offset + i0, from, unused);
            keyRange(s, offset + i0 + nr - 1, unused, to);
            from = std::max(from, keyFrom);
            to = std::min(to, keyTo);
            if (ranges > 1 && from >= to) continue;  // a whole pair writes every dq row, even those seeing no key
            const T* qBlock = q + rowBase + i0 * qStride;
            const T* gBlock = dOut + rowBase + i0 * qStride;
            for (int64_t r = 0; r < nr; r++) {
              const T* o = out + rowBase + (i0 + r) * qStride;
              const T* g = gBlock + r * qStride;
              T acc = 0;
#pragma omp simd reduction(+ : acc)
              for (int64_t d = 0; d < D; d++) acc += g[d] * o[d];
              w.rowD[r] = acc;
            }
            std::fill(w.dqAcc.begin(), w.dqAcc.end(), T(0));
            for (int64_t j0 = from / kAttnCols * kAttnCols; j0 < to; j0 += kAttnCols) {
              const int64_t nc = std::min(kAttnCols, to - j0);
              timesPacked(w.kt, qBlock, qStride, nr, w.kt.block(unit, kRows, kvStride, j0), w.P.data());  // scores
              timesPacked(w.vt, gBlock, qStride, nr, w.vt.block(unit, vRows, kvStride, j0), w.dS.data());  // dO·vᵀ
              if (s.dropout > 0)  // dP = m∘(dO·vᵀ)
                for (int64_t r = 0; r < nr; r++)
                  drop.apply(lseRow + i0 + r, j0, nc, w.dS.data() + r * kAttnCols);
              for (int64_t r = 0; r < nr; r++) {
                T* P = w.P.data() + r * kAttnCols;
                T* dS = w.dS.data() + r * kAttnCols;
                const T Lr = L[i0 + r];
                if (Lr == ninf) {  // a query that sees no key has no gradient
                  std::fill(P, P + kAttnCols, T(0));
                  std::fill(dS, dS + kAttnCols, T(0));
                  continue;
                }
                maskRow(s, b, offset + i0 + r, j0, P);
                const T Dr = w.rowD[r], scale = T(s.scale);
#pragma omp simd
                for (int64_t c = 0; c < kAttnCols; c++) {
                  const T p = P[c] == ninf ? T(0) : expT(P[c] - Lr);
                  P[c] = p;
                  dS[c] = p * (dS[c] - Dr) * scale;
                }
              }
              if (s.dropout > 0)  // dv from the dropped probabilities P∘m
                for (int64_t r = 0; r < nr; r++) drop.apply(lseRow + i0 + r, j0, nc, w.P.data() + r * kAttnCols);
              // dv_j += Σ_r P[r][j]·dO_r and dk_j += Σ_r dS[r][j]·q_r (Pᵀ and dSᵀ read through strides),
              // dq_r += Σ_j dS[r][j]·k_j.
              blockProduct(nc, D, nr, w.P.data(), int64_t(1), kAttnCols, gBlock, qStride, dvRows + j0 * kvStride,
                           kvStride, true);
              blockProduct(nc, D, nr, w.dS.data(), int64_t(1), kAttnCols, qBlock, qStride, dkRows + j0 * kvStride,
                           kvStride, true);
              blockProduct(nr, D, nc, w.dS.data(), kAttnCols, int64_t(1), kRows + j0 * kvStride, kvStride,
                           w.dqAcc.data(), D, true);
            }
            for (int64_t r = 0; r < nr; r++) {
              const T* acc = w.dqAcc.data() + r * D;
              T* dst = dqOut + rowBase + (i0 + r) * qStride;
              if (ranges > 1)
                for (int64_t d = 0; d < D; d++) dst[d] += acc[d];
              else
                std::copy(acc, acc + D, dst);
            }
          }
        }
      });
  if (ranges > 1)
    parallelFor((qSize + 8191) / 8192, 8192 * threads, [&](int64_t c) {
      const int64_t end = std::min(qSize, (c + 1) * 8192);
      for (int64_t i = c * 8192; i < end; i++) {
        T sum = 0;
        for (int t = 0; t < threads; t++) sum += dqCopies[t * qSize + i];
        dq[i] = sum;
      }
    });
}

}  // namespace morelora
