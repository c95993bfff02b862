// Elementwise kernels: broadcasting binary ops, unary ops and their gradients, select, strided copy.
#pragma once
#include <algorithm>
#include <cmath>

#include "common.h"
#include "fastmath.h"

namespace morelora {

// Codes shared with src/backend/native.ts (BINARY_OPS and UNARY_OPS there list the same order).
enum BinaryOp { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kGt, kEq };
enum UnaryOp {
  kNeg, kExp, kLog, kSqrt, kAbs, kTanh, kSigmoid, kRelu, kGelu, kGeluTanh, kSilu,
  kAddScalar, kMulScalar, kPowScalar, kClamp
};

template <typename T, typename F>
void binaryRows(const RowPlan& p, const T* a, const T* b, T* out, F f) {
  const int64_t n = p.rowLength, sa = p.rowStrides[0], sb = p.rowStrides[1];
  const int64_t rows = p.rows();
  auto row = [&](int64_t r, int64_t j0, int64_t j1) {
    const T* pa = a + p.offset(r, 0);
    const T* pb = b + p.offset(r, 1);
    T* po = out + p.offset(r, 2);
    if (sa == 1 && sb == 1)
      for (int64_t j = j0; j < j1; j++) po[j] = f(pa[j], pb[j]);
    else if (sa == 1 && sb == 0)
      for (int64_t j = j0; j < j1; j++) po[j] = f(pa[j], pb[0]);
    else if (sa == 0 && sb == 1)
      for (int64_t j = j0; j < j1; j++) po[j] = f(pa[0], pb[j]);
    else
      for (int64_t j = j0; j < j1; j++) po[j] = f(pa[j * sa], pb[j * sb]);
  };
  if (rows == 1) {
    const int64_t chunk = 1 << 14;
    parallelFor((n + chunk - 1) / chunk, chunk, [&](int64_t c) { row(0, c * chunk, std::min(n, (c + 1) * chunk)); });
  } else {
    parallelFor(rows, n, [&](int64_t r) { row(r, 0, n); });
  }
}

template <typename T>
inline T maxNaN(T x, T y) { return (x > y || std::isnan(x)) ? x : y; }
template <typename T>
inline T minNaN(T x, T y) { return (x < y || std::isnan(x)) ? x : y; }

template <typename T>
void binary(int op, const RowPlan& p, const T* a, const T* b, T* out) {
  switch (op) {
    case kAdd: return binaryRows(p, a, b, out, [](T x, T y) { return x + y; });
    case kSub: return binaryRows(p, a, b, out, [](T x, T y) { return x - y; });
    case kMul: return binaryRows(p, a, b, out, [](T x, T y) { return x * y; });
    case kDiv: return binaryRows(p, a, b, out, [](T x, T y) { return x / y; });
    case kPow: return binaryRows(p, a, b, out, [](T x, T y) { return (T)std::pow(x, y); });
    case kMax: return binaryRows(p, a, b, out, [](T x, T y) { return maxNaN(x, y); });
    case kMin: return binaryRows(p, a, b, out, [](T x, T y) { return minNaN(x, y); });
    case kGt: return binaryRows(p, a, b, out, [](T x, T y) { return (T)(x > y ? 1 : 0); });
    case kEq: return binaryRows(p, a, b, out, [](T x, T y) { return (T)(x == y ? 1 : 0); });
  }
}

template <typename T>
inline T sigmoidOf(T x) {
  // Written with one exp of a non-positive argument, so it never overflows.
  T e = expT(-std::fabs(x));
  return x >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
}

constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kGeluC = 0.044715;

// The activations of gated MLPs and their gradients gx = g·f'(v), shared by the unary kernels and
// the fused gated activation (gated.h), so both compute the very same values.
template <typename T>
inline T siluOf(T v) { return v * sigmoidOf(v); }
template <typename T>
inline T siluGrad(T v, T g) {
  T s = sigmoidOf(v);
  return g * s * (1 + v * (1 - s));
}
template <typename T>
inline T geluOf(T v) { return T(0.5) * v * (T(1) + erfT(v * T(kSqrtHalf))); }
template <typename T>
inline T geluGrad(T v, T g) {
  T cdf = T(0.5) * (T(1) + erfT(v * T(kSqrtHalf)));
  return g * (cdf + v * T(kInvSqrt2Pi) * expT(T(-0.5) * v * v));
}
template <typename T>
inline T geluTanhOf(T v) { return T(0.5) * v * (T(1) + tanhT(T(kSqrt2OverPi) * (v + T(kGeluC) * v * v * v))); }
template <typename T>
inline T geluTanhGrad(T v, T g) {
  T t = tanhT(T(kSqrt2OverPi) * (v + T(kGeluC) * v * v * v));
  T dt = (T(1) - t * t) * T(kSqrt2OverPi) * (T(1) + T(3 * kGeluC) * v * v);
  return g * (T(0.5) * (T(1) + t) + T(0.5) * v * dt);
}

// The loops run in helpers with restrict-qualified locals: inside an OpenMP region GCC does not
// vectorize loops over captured pointers.
template <typename T, typename F>
void mapRange(const T* __restrict x, T* __restrict out, int64_t i0, int64_t i1, F f) {
  for (int64_t i = i0; i < i1; i++) out[i] = f(x[i]);
}

template <typename T, typename F>
void map1(int64_t n, const T* x, T* out, F f) {
  parallelFor((n + 8191) / 8192, 8192 * 8, [&](int64_t c) { mapRange(x, out, c * 8192, std::min(n, (c + 1) * 8192), f); });
}

template <typename T>
void unary(int op, int64_t n, const T* x, T* out, double p0, double p1) {
  const T q0 = (T)p0, q1 = (T)p1;
  switch (op) {
    case kNeg: return map1(n, x, out, [](T v) { return -v; });
    case kExp: return map1(n, x, out, [](T v) { return expT(v); });
    case kLog: return map1(n, x, out, [](T v) { return std::log(v); });
    case kSqrt: return map1(n, x, out, [](T v) { return std::sqrt(v); });
    case kAbs: return map1(n, x, out, [](T v) { return std::fabs(v); });
    case kTanh: return map1(n, x, out, [](T v) { return tanhT(v); });
    case kSigmoid: return map1(n, x, out, [](T v) { return sigmoidOf(v); });
    case kRelu: return map1(n, x, out, [](T v) { return std::isnan(v) ? v : std::max(v, T(0)); });
    case kGelu: return map1(n, x, out, [](T v) { return geluOf(v); });
    case kGeluTanh: return map1(n, x, out, [](T v) { return geluTanhOf(v); });
    case kSilu: return map1(n, x, out, [](T v) { return siluOf(v); });
    case kAddScalar: return map1(n, x, out, [=](T v) { return v + q0; });
    case kMulScalar: return map1(n, x, out, [=](T v) { return v * q0; });
    case kPowScalar: return map1(n, x, out, [=](T v) { return (T)std::pow(v, q0); });
    case kClamp: return map1(n, x, out, [=](T v) { return std::isnan(v) ? v : std::min(std::max(v, q0), q1); });
  }
}

template <typename T, typename F>
void map3Range(const T* __restrict x, const T* __restrict y, const T* __restrict gy, T* __restrict gx, int64_t i0,
               int64_t i1, F f) {
  for (int64_t i = i0; i < i1; i++) gx[i] = f(x[i], y[i], gy[i]);
}

template <typename T, typename F>
void map3(int64_t n, const T* x, const T* y, const T* gy, T* gx, F f) {
  parallelFor((n + 8191) / 8192, 8192 * 8,
              [&](int64_t c) { map3Range(x, y, gy, gx, c * 8192, std::min(n, (c + 1) * 8192), f); });
}

template <typename T>
void unaryGrad(int op, int64_t n, const T* x, const T* y, const T* gy, T* gx, double p0, double p1) {
  const T q0 = (T)p0, q1 = (T)p1;
  switch (op) {
    case kNeg: return map3(n, x, y, gy, gx, [](T, T, T g) { return -g; });
    case kExp: return map3(n, x, y, gy, gx, [](T, T o, T g) { return g * o; });
    case kLog: return map3(n, x, y, gy, gx, [](T v, T, T g) { return g / v; });
    case kSqrt: return map3(n, x, y, gy, gx, [](T, T o, T g) { return g / (2 * o); });
    case kAbs: return map3(n, x, y, gy, gx, [](T v, T, T g) { return v > 0 ? g : v < 0 ? -g : T(0); });
    case kTanh: return map3(n, x, y, gy, gx, [](T, T o, T g) { return g * (1 - o * o); });
    case kSigmoid: return map3(n, x, y, gy, gx, [](T, T o, T g) { return g * o * (1 - o); });
    case kRelu: return map3(n, x, y, gy, gx, [](T v, T, T g) { return v > 0 ? g : T(0); });
    case kGelu: return map3(n, x, y, gy, gx, [](T v, T, T g) { return geluGrad(v, g); });
    case kGeluTanh: return map3(n, x, y, gy, gx, [](T v, T, T g) { return geluTanhGrad(v, g); });
    case kSilu: return map3(n, x, y, gy, gx, [](T v, T, T g) { return siluGrad(v, g); });
    case kAddScalar: return map3(n, x, y, gy, gx, [](T, T, T g) { return g; });
    case kMulScalar: return map3(n, x, y, gy, gx, [=](T, T, T g) { return g * q0; });
    case kPowScalar:
      return map3(n, x, y, gy, gx, [=](T v, T, T g) { return q0 == 0 ? T(0) : (T)(g * q0 * std::pow(v, q0 - 1)); });
    case kClamp: return map3(n, x, y, gy, gx, [=](T v, T, T g) { return v >= q0 && v <= q1 ? g : T(0); });
  }
}

template <typename T>
void select(const RowPlan& p, const int32_t* cond, const T* a, const T* b, T* out) {
  const int64_t n = p.rowLength;
  parallelFor(p.rows(), n, [&](int64_t r) {
    const int32_t* pc = cond + p.offset(r, 0);
    const T* pa = a + p.offset(r, 1);
    const T* pb = b + p.offset(r, 2);
    T* po = out + p.offset(r, 3);
    for (int64_t j = 0; j < n; j++)
      po[j] = pc[j * p.rowStrides[0]] != 0 ? pa[j * p.rowStrides[1]] : pb[j * p.rowStrides[2]];
  });
}

template <typename S, typename D>
void copyStrided(const RowPlan& p, const S* src, D* dst, bool accumulate) {
  const int64_t n = p.rowLength, ss = p.rowStrides[0], sd = p.rowStrides[1];
  // Plain copies write each destination element once, so rows can run in parallel; accumulating
  // into a destination with repeated (e.g. broadcast) positions cannot.
  parallelFor(p.rows(), accumulate ? 0 : n, [&](int64_t r) {
    const S* ps = src + p.offset(r, 0);
    D* pd = dst + p.offset(r, 1);
    if (accumulate)
      for (int64_t j = 0; j < n; j++) pd[j * sd] += (D)ps[j * ss];
    else if (ss == 1 && sd == 1)
      for (int64_t j = 0; j < n; j++) pd[j] = (D)ps[j];
    else
      for (int64_t j = 0; j < n; j++) pd[j * sd] = (D)ps[j * ss];
  });
}

}  // namespace morelora
