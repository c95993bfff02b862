// Row-wise kernels: reductions, indexing, softmax, norms, cross-entropy, row norms, AdamW.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.h"
#include "fastmath.h"

namespace morelora {

template <typename T>
void reduceSum(const T* x, int64_t outer, int64_t len, int64_t inner, T* out) {
  parallelFor(outer, len * inner, [&](int64_t o) {
    if (inner == 1) {
      double s = 0;
      const T* row = x + o * len;
      for (int64_t j = 0; j < len; j++) s += row[j];
      out[o] = (T)s;
      return;
    }
    std::vector<double> acc(inner, 0.0);
    for (int64_t j = 0; j < len; j++) {
      const T* row = x + (o * len + j) * inner;
      for (int64_t i = 0; i < inner; i++) acc[i] += row[i];
    }
    for (int64_t i = 0; i < inner; i++) out[o * inner + i] = (T)acc[i];
  });
}

template <typename T>
void reduceMax(const T* x, int64_t outer, int64_t len, int64_t inner, T* out, int32_t* argmax) {
  parallelFor(outer * inner, len, [&](int64_t k) {
    int64_t o = k / inner, i = k % inner;
    T best = -std::numeric_limits<T>::infinity();
    int32_t at = 0;
    for (int64_t j = 0; j < len; j++) {
      T v = x[(o * len + j) * inner + i];
      if (v > best || std::isnan(v)) {
        best = v;
        at = (int32_t)j;
        if (std::isnan(v)) break;
      }
    }
    out[k] = best;
    argmax[k] = at;
  });
}

inline void checkIndices(const int32_t* idx, int64_t n, int64_t len) {
  for (int64_t j = 0; j < n; j++)
    if (idx[j] < 0 || idx[j] >= len)
      throw std::range_error("index " + std::to_string(idx[j]) + " is out of range for an axis of length " +
                             std::to_string(len));
}

template <typename T>
void indexSelect(const T* src, int64_t outer, int64_t srcLen, int64_t inner, const int32_t* idx, int64_t k, T* dst) {
  checkIndices(idx, k, srcLen);
  parallelFor(outer * k, inner, [&](int64_t r) {
    int64_t o = r / k, j = r % k;
    std::copy_n(src + (o * srcLen + idx[j]) * inner, inner, dst + r * inner);
  });
}

template <typename T>
void indexAdd(const T* src, int64_t outer, int64_t dstLen, int64_t inner, const int32_t* idx, int64_t k, T* dst) {
  checkIndices(idx, k, dstLen);
  // Repeated indices add into the same row, so only the outer axis runs in parallel.
  parallelFor(outer, k * inner, [&](int64_t o) {
    for (int64_t j = 0; j < k; j++) {
      T* d = dst + (o * dstLen + idx[j]) * inner;
      const T* s = src + (o * k + j) * inner;
      for (int64_t i = 0; i < inner; i++) d[i] += s[i];
    }
  });
}

template <typename T>
void gather(const T* src, int64_t outer, int64_t srcLen, int64_t inner, int64_t k, const int32_t* idx, T* dst) {
  checkIndices(idx, outer * k * inner, srcLen);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < k; j++)
      for (int64_t i = 0; i < inner; i++) {
        int64_t at = (o * k + j) * inner + i;
        dst[at] = src[(o * srcLen + idx[at]) * inner + i];
      }
}

template <typename T>
void scatterAdd(const T* src, int64_t outer, int64_t dstLen, int64_t inner, int64_t k, const int32_t* idx, T* dst) {
  checkIndices(idx, outer * k * inner, dstLen);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < k; j++)
      for (int64_t i = 0; i < inner; i++) {
        int64_t at = (o * k + j) * inner + i;
        dst[(o * dstLen + idx[at]) * inner + i] += src[at];
      }
}

// Rows are summed in chunks of this many elements across vector lanes, the chunks in double.
constexpr int64_t kSumChunk = 512;

// The largest entry of a row (NaNs are passed over, as std::max does).
template <typename T>
T rowMax(const T* x, int64_t n) {
  T mx = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : mx)
  for (int64_t j = 0; j < n; j++) mx = x[j] > mx ? x[j] : mx;
  return mx;
}

template <typename T>
void softmax(const T* x, int64_t rows, int64_t cols, T* out, bool log) {
  parallelFor(rows, cols * 4, [&](int64_t r) {
    const T* xr = x + r * cols;
    T* o = out + r * cols;
    const T mx = rowMax(xr, cols);
    // exp once per element into the output (expT is the vectorized one for float), then scale.
    double s = 0;
    for (int64_t j0 = 0; j0 < cols; j0 += kSumChunk) {
      const int64_t j1 = std::min(cols, j0 + kSumChunk);
      T cs = 0;
#pragma omp simd reduction(+ : cs)
      for (int64_t j = j0; j < j1; j++) {
        o[j] = expT((T)(xr[j] - mx));
        cs += o[j];
      }
      s += cs;
    }
    if (log) {
      T lse = (T)(mx + std::log(s));
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) o[j] = xr[j] - lse;
    } else {
      T inv = (T)(1 / s);
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) o[j] *= inv;
    }
  });
}

template <typename T>
void softmaxGrad(const T* y, const T* gy, int64_t rows, int64_t cols, T* gx, bool log) {
  parallelFor(rows, cols * 3, [&](int64_t r) {
    const T *yr = y + r * cols, *g = gy + r * cols;
    T* o = gx + r * cols;
    double s = 0;
    if (log) {
      for (int64_t j = 0; j < cols; j++) s += g[j];
      for (int64_t j = 0; j < cols; j++) o[j] = (T)(g[j] - std::exp((double)yr[j]) * s);
    } else {
      for (int64_t j = 0; j < cols; j++) s += (double)g[j] * yr[j];
      for (int64_t j = 0; j < cols; j++) o[j] = (T)(yr[j] * (g[j] - s));
    }
  });
}

template <typename T>
void layerNorm(const T* x, const T* w, const T* b, int64_t rows, int64_t cols, double eps, T* out, T* mean,
               T* rstd) {
  parallelFor(rows, cols * 3, [&](int64_t r) {
    const T* xr = x + r * cols;
    double s = 0;
    for (int64_t j = 0; j < cols; j++) s += xr[j];
    double mu = s / cols, v = 0;
    for (int64_t j = 0; j < cols; j++) v += (xr[j] - mu) * (xr[j] - mu);
    double rs = 1 / std::sqrt(v / cols + eps);
    mean[r] = (T)mu;
    rstd[r] = (T)rs;
    T* o = out + r * cols;
    for (int64_t j = 0; j < cols; j++) {
      double y = (xr[j] - mu) * rs;
      if (w) y *= w[j];
      if (b) y += b[j];
      o[j] = (T)y;
    }
  });
}

// Weight and bias gradients sum over rows; each thread keeps its own partial sums.
template <typename T, typename RowFn>
void rowsWithParamGrads(int64_t rows, int64_t cols, T* gw, T* gb, RowFn rowFn) {
  int threads = 1;
#ifdef _OPENMP
  if (rows * cols >= kParallelGrain) threads = omp_get_max_threads();
#endif
  std::vector<double> pw(gw ? (size_t)threads * cols : 0, 0.0), pb(gb ? (size_t)threads * cols : 0, 0.0);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads)
#endif
  for (int64_t r = 0; r < rows; r++) {
    int t = 0;
#ifdef _OPENMP
    t = omp_get_thread_num();
#endif
    rowFn(r, gw ? pw.data() + (size_t)t * cols : nullptr, gb ? pb.data() + (size_t)t * cols : nullptr);
  }
  for (int t = 0; t < threads; t++)
    for (int64_t j = 0; j < cols; j++) {
      if (gw) gw[j] += (T)pw[(size_t)t * cols + j];
      if (gb) gb[j] += (T)pb[(size_t)t * cols + j];
    }
}

template <typename T>
void layerNormGrad(const T* x, const T* w, const T* mean, const T* rstd, const T* gy, int64_t rows, int64_t cols,
                   T* gx, T* gw, T* gb) {
  rowsWithParamGrads(rows, cols, gw, gb, [&](int64_t r, double* pw, double* pb) {
    const T *xr = x + r * cols, *g = gy + r * cols;
    double mu = mean[r], rs = rstd[r], sumG = 0, sumGX = 0;
    for (int64_t j = 0; j < cols; j++) {
      double xh = (xr[j] - mu) * rs;
      double gj = w ? (double)g[j] * w[j] : g[j];
      sumG += gj;
      sumGX += gj * xh;
      if (pw) pw[j] += g[j] * xh;
      if (pb) pb[j] += g[j];
    }
    double mG = sumG / cols, mGX = sumGX / cols;
    T* o = gx + r * cols;
    for (int64_t j = 0; j < cols; j++) {
      double xh = (xr[j] - mu) * rs;
      double gj = w ? (double)g[j] * w[j] : g[j];
      o[j] = (T)(rs * (gj - mG - xh * mGX));
    }
  });
}

template <typename T>
void rmsNorm(const T* x, const T* w, int64_t rows, int64_t cols, double eps, T* out, T* rstd) {
  parallelFor(rows, cols * 2, [&](int64_t r) {
    const T* xr = x + r * cols;
    double ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int64_t j = 0; j < cols; j++) ss += (double)xr[j] * xr[j];
    double rs = 1 / std::sqrt(ss / cols + eps);
    rstd[r] = (T)rs;
    T* o = out + r * cols;
    if (w) {
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) o[j] = (T)(xr[j] * rs * w[j]);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) o[j] = (T)(xr[j] * rs);
    }
  });
}

template <typename T>
void rmsNormGrad(const T* x, const T* w, const T* rstd, const T* gy, int64_t rows, int64_t cols, T* gx, T* gw) {
  rowsWithParamGrads<T>(rows, cols, gw, nullptr, [&](int64_t r, double* pw, double*) {
    const T *xr = x + r * cols, *g = gy + r * cols;
    double rs = rstd[r], sumGX = 0;
    for (int64_t j = 0; j < cols; j++) {
      double xh = xr[j] * rs;
      double gj = w ? (double)g[j] * w[j] : g[j];
      sumGX += gj * xh;
      if (pw) pw[j] += g[j] * xh;
    }
    double mGX = sumGX / cols;
    T* o = gx + r * cols;
    for (int64_t j = 0; j < cols; j++) {
      double xh = xr[j] * rs;
      double gj = w ? (double)g[j] * w[j] : g[j];
      o[j] = (T)(rs * (gj - xh * mGX));
    }
  });
}

template <typename T>
void crossEntropy(const T* logits, const int32_t* targets, int64_t rows, int64_t cols, int64_t ignoreIndex,
                  double smoothing, T* loss, T* lse) {
  for (int64_t r = 0; r < rows; r++) {
    int32_t t = targets[r];
    if (t != ignoreIndex && (t < 0 || t >= cols))
      throw std::range_error("target " + std::to_string(t) + " at row " + std::to_string(r) + " is out of range [0, " +
                             std::to_string(cols) + ")");
  }
  parallelFor(rows, cols * 3, [&](int64_t r) {
    const T* x = logits + r * cols;
    const T mx = rowMax(x, cols);
    double s = 0, sumX = 0;
    // Vector lanes sum chunks of kSumChunk, and the chunks add up in double.
    for (int64_t j0 = 0; j0 < cols; j0 += kSumChunk) {
      const int64_t j1 = std::min(cols, j0 + kSumChunk);
      T cs = 0, cx = 0;
#pragma omp simd reduction(+ : cs, cx)
      for (int64_t j = j0; j < j1; j++) {
        cs += expT((T)(x[j] - mx));
        cx += x[j];
      }
      s += cs;
      sumX += cx;
    }
    double l = mx + std::log(s);
    lse[r] = (T)l;
    int32_t t = targets[r];
    loss[r] = t == ignoreIndex ? T(0) : (T)((1 - smoothing) * (l - x[t]) + smoothing * (l - sumX / cols));
  });
}

template <typename T>
void crossEntropyGrad(const T* logits, const int32_t* targets, const T* lse, const T* gLoss, int64_t rows,
                      int64_t cols, int64_t ignoreIndex, double smoothing, T* gx) {
  const double uniform = smoothing / cols;
  parallelFor(rows, cols * 2, [&](int64_t r) {
    const T* x = logits + r * cols;
    T* o = gx + r * cols;
    int32_t t = targets[r];
    if (t == ignoreIndex) {
      std::fill_n(o, cols, T(0));
      return;
    }
    const T g = (T)gLoss[r], l = lse[r], u = (T)uniform;
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) o[j] = g * (expT((T)(x[j] - l)) - u);
    o[t] -= (T)(g * (1 - smoothing));
  });
}

template <typename T>
void rowNorm(const T* x, int64_t rows, int64_t cols, T* out) {
  parallelFor(rows, cols, [&](int64_t r) {
    double ss = 0;
    for (int64_t j = 0; j < cols; j++) ss += (double)x[r * cols + j] * x[r * cols + j];
    out[r] = (T)std::sqrt(ss);
  });
}

template <typename T>
void rowNormGrad(const T* x, const T* norm, const T* gNorm, int64_t rows, int64_t cols, T* gx) {
  parallelFor(rows, cols, [&](int64_t r) {
    T s = norm[r] == 0 ? T(0) : gNorm[r] / norm[r];
    for (int64_t j = 0; j < cols; j++) gx[r * cols + j] = s * x[r * cols + j];
  });
}

template <typename T>
void adamw(int64_t n, T* param, const T* grad, T* m, T* v, double lr, double beta1, double beta2, double eps,
           double weightDecay, double step) {
  const double bc1 = 1 - std::pow(beta1, step), bc2 = 1 - std::pow(beta2, step);
  const double stepSize = lr / bc1, sqrtBc2 = std::sqrt(bc2), decay = 1 - lr * weightDecay;
  parallelFor((n + 8191) / 8192, 8192 * 8, [&](int64_t c) {
    int64_t end = std::min(n, (c + 1) * 8192);
    for (int64_t i = c * 8192; i < end; i++) {
      double g = grad[i];
      double mi = beta1 * m[i] + (1 - beta1) * g;
      double vi = beta2 * v[i] + (1 - beta2) * g * g;
      m[i] = (T)mi;
      v[i] = (T)vi;
      param[i] = (T)(param[i] * decay - stepSize * mi / (std::sqrt(vi) / sqrtBc2 + eps));
    }
  });
}

}  // namespace morelora
