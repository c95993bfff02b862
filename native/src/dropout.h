// Elementwise dropout (T.dropout): out[i] = x[i]·m_i, element i being entry i mod 2³² of mask row
// ⌊i / 2³²⌋ (dropout_mask.h). The backward is the same kernel on the gradient, so nothing is kept.
#pragma once
#include <algorithm>

#include "common.h"
#include "dropout_mask.h"

namespace morelora {

template <typename T>
void dropout(int64_t n, const T* x, T* out, double p, uint32_t seed) {
  const DropoutMask<T> mask(p, seed);
  // A chunk's size divides 2³², so it lies in one mask row; it takes its (row, j) from its own first
  // index, which makes the result independent of the threads.
  constexpr int64_t chunk = 8192;
  parallelFor((n + chunk - 1) / chunk, chunk * 4, [&](int64_t c) {
    const int64_t i0 = c * chunk;
    mask.apply(i0 >> 32, i0, std::min(chunk, n - i0), x + i0, out + i0);
  });
}

}  // namespace morelora
