// Shared helpers of the morelora native kernels: strided row plans and a parallel-for.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace morelora {

// Work below this many elements runs on one thread: spawning costs more than it saves.
constexpr int64_t kParallelGrain = 1 << 15;

template <typename F>
inline void parallelFor(int64_t n, int64_t costPerItem, F body) {
#ifdef _OPENMP
  if (n > 1 && n * costPerItem >= kParallelGrain) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) body(i);
    return;
  }
#endif
  for (int64_t i = 0; i < n; i++) body(i);
}

// A strided iteration merged into rows, as src/backend/js/strided.ts plans it: adjacent
// dimensions that are contiguous in every operand become one.
struct RowPlan {
  std::vector<int64_t> outerShape;
  std::vector<std::vector<int64_t>> outerStrides;  // per operand
  int64_t rowLength = 1;
  std::vector<int64_t> rowStrides;  // per operand
  int64_t rows() const {
    int64_t r = 1;
    for (auto d : outerShape) r *= d;
    return r;
  }
  // Start offset of row r for operand o.
  int64_t offset(int64_t r, size_t o) const {
    int64_t off = 0;
    for (int64_t d = (int64_t)outerShape.size() - 1; d >= 0; d--) {
      off += (r % outerShape[d]) * outerStrides[o][d];
      r /= outerShape[d];
    }
    return off;
  }
};

inline RowPlan planRows(const std::vector<int64_t>& shape, const std::vector<std::vector<int64_t>>& strides) {
  size_t ops = strides.size();
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> st(ops);
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] == 1) continue;
    bool mergeable = !dims.empty();
    for (size_t o = 0; o < ops && mergeable; o++) mergeable = st[o].back() == strides[o][d] * shape[d];
    if (mergeable) {
      dims.back() *= shape[d];
      for (size_t o = 0; o < ops; o++) st[o].back() = strides[o][d];
    } else {
      dims.push_back(shape[d]);
      for (size_t o = 0; o < ops; o++) st[o].push_back(strides[o][d]);
    }
  }
  RowPlan p;
  p.rowStrides.assign(ops, 0);
  p.outerStrides.assign(ops, {});
  for (auto d : shape)
    if (d == 0) {
      p.rowLength = 0;
      return p;
    }
  if (dims.empty()) return p;
  p.rowLength = dims.back();
  dims.pop_back();
  p.outerShape = dims;
  for (size_t o = 0; o < ops; o++) {
    p.rowStrides[o] = st[o].back();
    st[o].pop_back();
    p.outerStrides[o] = st[o];
  }
  return p;
}

inline std::vector<int64_t> contiguousStrides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size());
  int64_t acc = 1;
  for (int64_t d = (int64_t)shape.size() - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

}  // namespace morelora
