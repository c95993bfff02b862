// Vectorizable float32 versions of exp, erf, tanh and sigmoid for the activation kernels. libm's
// expf/erff/tanhf are calls the compiler cannot vectorize; these are plain arithmetic it can.
// Accuracy: exp ~2e-7 relative, erf ~2e-7 absolute (Abramowitz & Stegun 7.1.26 with this exp),
// tanh and sigmoid ~2e-7 absolute: within float32 rounding of the exact values. float64 kernels
// keep libm, as the reference for gradient checks.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace morelora {

inline float fastExp(float x) {
  // Ternaries, not fmin/fmax: GCC vectorizes these. A NaN passes through and stays NaN.
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float k = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = x - k * 0.693359375f + k * 2.12194440e-4f;  // x - k·ln2, ln2 split hi/lo
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float fastErf(float x) {
  const float ax = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * ax);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  const float y = 1.0f - p * t * fastExp(-ax * ax);
  return std::copysign(y, x);
}

inline float fastTanh(float x) {
  const float e = fastExp(-2.0f * std::fabs(x));
  return std::copysign((1.0f - e) / (1.0f + e), x);
}

inline float fastSigmoid(float x) { return 1.0f / (1.0f + fastExp(-x)); }

// The libm functions for double, the fast ones for float.
inline double expT(double x) { return std::exp(x); }
inline float expT(float x) { return fastExp(x); }
inline double erfT(double x) { return std::erf(x); }
inline float erfT(float x) { return fastErf(x); }
inline double tanhT(double x) { return std::tanh(x); }
inline float tanhT(float x) { return fastTanh(x); }

}  // namespace morelora
