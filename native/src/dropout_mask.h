// The dropout mask of the fused attention (docs/attention.md, "Dropout"): a stateless hash of
// (seed, query row, key), so every kernel, whatever its blocks, threads or key ranges, recomputes the
// same mask. Bit for bit the mask of src/backend/js/dropout-mask.ts. The elementwise dropout
// (dropout.h) uses the same mask, element i being key j = i mod 2³² of row ⌊i / 2³²⌋.
#pragma once
#include <cmath>
#include <cstdint>

namespace morelora {

// A uint32 → uint32 mixing function (lowbias32); uint32_t arithmetic wraps as Math.imul and >>> do.
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

template <typename T>
struct DropoutMask {
  uint32_t seed, threshold;  // key j of a row is kept when its hash is ≥ threshold = ⌊p·2³²⌋
  T kept;                    // the multiplier of a kept key, 1/(1 − p)

  DropoutMask(double p, uint32_t seed)
      : seed(seed), threshold(uint32_t(std::floor(p * 4294967296.0))), kept(T(1) / (T(1) - T(p))) {}

  // out[c] = x[c]·m, m the multiplier (`kept` or 0) of query row `row` ((b·heads + h)·tq + i, its
  // index into lse) against the key j0 + c (mod 2³²), for c < n; x may be out.
  void apply(int64_t row, int64_t j0, int64_t n, const T* x, T* out) const {
    // Locals, not members, in the loop: GCC does not vectorize it otherwise.
    const uint32_t rowKey = mix32(seed ^ mix32(uint32_t(row))), limit = threshold;
    const T keep = kept, drop = T(0);
#pragma omp simd
    for (int64_t c = 0; c < n; c++) out[c] = x[c] * (mix32(rowKey ^ uint32_t(j0 + c)) >= limit ? keep : drop);
  }

  void apply(int64_t row, int64_t j0, int64_t n, T* x) const { apply(row, j0, n, x, x); }
};

}  // namespace morelora
