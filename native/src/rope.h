// Rotary position embedding over the halves of each head and its transpose (the backward); the
// arithmetic of Backend.rope in src/backend/backend.ts, tested against src/backend/js/rope.ts.
#pragma once
#include <cstdint>

#include "common.h"

namespace morelora {

template <typename T>
void rope(const T* x, const T* cos, const T* sin, int64_t rows, int64_t heads, int64_t dim, T* out, bool transpose) {
  const int64_t half = dim / 2;
  // Transposed, the sine halves swap and the sign flips: [x1·c1 + x2·s2, x2·c2 − x1·s1].
  const T sign = transpose ? T(-1) : T(1);
  const int64_t first = transpose ? half : 0, second = transpose ? 0 : half;
  parallelFor(rows, heads * dim, [&](int64_t r) {
    const T *c = cos + r * dim, *s1 = sin + r * dim + first, *s2 = sin + r * dim + second;
    for (int64_t h = 0; h < heads; h++) {
      const T* xi = x + (r * heads + h) * dim;
      T* o = out + (r * heads + h) * dim;
#pragma omp simd
      for (int64_t i = 0; i < half; i++) {
        const T x1 = xi[i], x2 = xi[i + half];
        o[i] = x1 * c[i] - sign * x2 * s1[i];
        o[i + half] = x2 * c[i + half] + sign * x1 * s2[i];
      }
    }
  });
}

}  // namespace morelora
