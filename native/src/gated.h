// The gated activation of Llama-family MLPs, out = act(g)·u, and its gradient, fused: one pass
// instead of two, and the backward reads g and u only, so act(g) is never kept (docs/memory.md).
// Each value is computed exactly as the unfused unary and product kernels compute it.
#pragma once
#include <algorithm>

#include "common.h"
#include "elementwise.h"

namespace morelora {

template <typename T, typename F>
void gatedRange(const T* __restrict g, const T* __restrict u, T* __restrict out, int64_t i0, int64_t i1, F act) {
  for (int64_t i = i0; i < i1; i++) {
    T a = act(g[i]);
    out[i] = a * u[i];
  }
}

template <typename T, typename F>
void gatedMap(int64_t n, const T* g, const T* u, T* out, F act) {
  parallelFor((n + 8191) / 8192, 8192 * 8,
              [&](int64_t c) { gatedRange(g, u, out, c * 8192, std::min(n, (c + 1) * 8192), act); });
}

// op is the activation's unary code (kSilu, kGelu, kGeluTanh).
template <typename T>
void gatedActivation(int op, int64_t n, const T* g, const T* u, T* out) {
  switch (op) {
    case kSilu: return gatedMap(n, g, u, out, [](T v) { return siluOf(v); });
    case kGelu: return gatedMap(n, g, u, out, [](T v) { return geluOf(v); });
    case kGeluTanh: return gatedMap(n, g, u, out, [](T v) { return geluTanhOf(v); });
  }
}

// gg = act'(g)·(gy·u) and gu = gy·act(g): the product's gradients, then the activation's.
template <typename T, typename F, typename D>
void gatedGradRange(const T* __restrict g, const T* __restrict u, const T* __restrict gy, T* __restrict gg,
                    T* __restrict gu, int64_t i0, int64_t i1, F act, D grad) {
  for (int64_t i = i0; i < i1; i++) {
    T ga = gy[i] * u[i];
    T a = act(g[i]);
    gu[i] = gy[i] * a;
    gg[i] = grad(g[i], ga);
  }
}

template <typename T, typename F, typename D>
void gatedGradMap(int64_t n, const T* g, const T* u, const T* gy, T* gg, T* gu, F act, D grad) {
  parallelFor((n + 8191) / 8192, 8192 * 16, [&](int64_t c) {
    gatedGradRange(g, u, gy, gg, gu, c * 8192, std::min(n, (c + 1) * 8192), act, grad);
  });
}

template <typename T>
void gatedActivationGrad(int op, int64_t n, const T* g, const T* u, const T* gy, T* gg, T* gu) {
  switch (op) {
    case kSilu:
      return gatedGradMap(n, g, u, gy, gg, gu, [](T v) { return siluOf(v); }, [](T v, T d) { return siluGrad(v, d); });
    case kGelu:
      return gatedGradMap(n, g, u, gy, gg, gu, [](T v) { return geluOf(v); }, [](T v, T d) { return geluGrad(v, d); });
    case kGeluTanh:
      return gatedGradMap(n, g, u, gy, gg, gu, [](T v) { return geluTanhOf(v); },
                          [](T v, T d) { return geluTanhGrad(v, d); });
  }
}

}  // namespace morelora
