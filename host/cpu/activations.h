// Gate activations of the CPU recurrent layers: sigmoid and tanh.
//
// double keeps libm (std::exp, std::tanh): it is the reference that the gradient checks and the
// PyTorch fixtures measure against. float uses branch-free polynomial forms that the compiler
// vectorises inside the per-step loops: scalar libm tanhf/expm1f took ~40% of a float training
// epoch (perf, seed 001's addition model), more than the GEMMs. Their error is at the level of
// float rounding: exp within 1.5e-7 relative; tanh within 2e-7 absolute and 6e-7 relative;
// sigmoid within 2.5e-7 relative (tests/test_activations_cpu.cpp). Inputs are clamped so that
// nothing overflows; NaN propagates.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace s2s::cpu {

// e^x for float: x = n ln2 + r with |r| <= ln2/2, e^r by its degree-7 Taylor polynomial (error
// r^8/8! < 6e-9 relative), 2^n put straight into the exponent bits.
inline float exp_float(float x) {
  // The bounds keep 2^n a normal float: n in [-126, 127].
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.0f ? 88.0f : x;
  // Adding 1.5 * 2^23 rounds x log2(e) to the nearest integer in float arithmetic (SSE2 has no
  // vector round instruction); the build does not allow reassociation, so this is exact.
  constexpr float kRoundingShift = 12582912.0f;
  const float shifted = x * 1.44269504088896341f + kRoundingShift;
  const float n = shifted - kRoundingShift;
  // ln 2 split in a high part with few significant bits (n * high is exact) and the rest.
  float r = x - n * 0.693145751953125f;
  r = r - n * 1.42860682030941723212e-6f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // n sits in the low mantissa bits of shifted; unsigned arithmetic wraps the negative ones
  // into the biased exponent n + 127 (in [1, 254]) without a float-to-int conversion.
  std::uint32_t shifted_bits;
  std::memcpy(&shifted_bits, &shifted, sizeof shifted_bits);
  const std::uint32_t exponent_bits = (shifted_bits - 0x4B400000u + 127u) << 23;
  float scale;
  std::memcpy(&scale, &exponent_bits, sizeof scale);
  return p * scale;
}

inline float sigmoid_float(float x) { return 1.0f / (1.0f + exp_float(-x)); }

// tanh for float: 1 - 2 / (e^{2x} + 1) away from 0, where it is accurate to float rounding of
// values near 1; near 0 that form cancels, so |x| < 0.25 uses the odd Taylor series to x^9
// (error below 1e-8 relative there).
inline float tanh_float(float x) {
  const float x2 = x * x;
  float series = 62.0f / 2835.0f;
  series = series * x2 - 17.0f / 315.0f;
  series = series * x2 + 2.0f / 15.0f;
  series = series * x2 - 1.0f / 3.0f;
  series = series * x2 * x + x;
  const float from_exp = 1.0f - 2.0f / (exp_float(2.0f * x) + 1.0f);
  return x2 < 0.0625f ? series : from_exp;
}

template <typename T>
inline T sigmoid(T v) {
  return T(1) / (T(1) + std::exp(-v));
}
template <>
inline float sigmoid<float>(float v) {
  return sigmoid_float(v);
}

template <typename T>
inline T tanh_activation(T v) {
  return std::tanh(v);
}
template <>
inline float tanh_activation<float>(float v) {
  return tanh_float(v);
}

// The activation policy the shared cell math (host/cells/) runs with in the CPU loops.
template <typename T>
struct CpuActivations {
  static T sigmoid(T v) { return cpu::sigmoid<T>(v); }
  static T tanh(T v) { return tanh_activation<T>(v); }
};

}  // namespace s2s::cpu
