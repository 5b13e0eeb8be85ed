// The float gate activations of the CPU layers (host/cpu/activations.h) against libm in double,
// over every input range the layers see, with named tolerances; and the double versions, which
// must stay exactly libm's (they are the gradient-check reference).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <limits>
#include <vector>

#include "cpu/activations.h"

namespace s2s::test {
namespace {

// Error bounds the header promises (its comment), each a little above the worst measured on a
// grid of 2M points (exp 1.02e-7 relative; tanh 1.78e-7 absolute, 4.9e-7 relative; sigmoid
// 1.55e-7 relative). Dropping exp's last polynomial term already breaks kExpRelative.
constexpr double kExpRelative = 1.5e-7;
constexpr double kTanhAbsolute = 2e-7;
constexpr double kTanhRelative = 6e-7;
constexpr double kSigmoidRelative = 2.5e-7;  // relative everywhere, tiny values (x << 0) too

// A dense grid over [low, high] plus values near the branch points and the clamps.
std::vector<float> grid(float low, float high, int count) {
  std::vector<float> xs;
  for (int i = 0; i <= count; ++i) xs.push_back(low + (high - low) * static_cast<float>(i) / count);
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-8f, 0.2499999f, 0.25f, 0.2500001f, -0.25f,
                  0.5f * std::log(2.0f), 44.0f, -43.6f, 87.9f, -87.2f}) {
    xs.push_back(x);
  }
  return xs;
}

TEST(ActivationsCpu, ExpFloatMatchesLibmInDoubleOverTheNormalRange) {
  double worst = 0.0;
  for (float x : grid(-87.0f, 87.9f, 200000)) {
    const double expected = std::exp(static_cast<double>(x));
    const double relative = std::abs(s2s::cpu::exp_float(x) - expected) / expected;
    worst = std::max(worst, relative);
    ASSERT_LE(relative, kExpRelative) << "x = " << x;
  }
  RecordProperty("worst_relative_error", std::to_string(worst));
}

TEST(ActivationsCpu, TanhFloatMatchesLibmInDouble) {
  for (float x : grid(-20.0f, 20.0f, 400000)) {
    const double expected = std::tanh(static_cast<double>(x));
    const double error = std::abs(s2s::cpu::tanh_float(x) - expected);
    ASSERT_LE(error, kTanhAbsolute + kTanhRelative * std::abs(expected)) << "x = " << x;
    // Near 0 the result is relatively exact too (the series branch), so small gates keep their
    // precision.
    if (std::abs(x) < 0.25f && x != 0.0f) {
      ASSERT_LE(error / std::abs(expected), kTanhRelative) << "x = " << x;
    }
  }
}

TEST(ActivationsCpu, SigmoidFloatMatchesLibmInDouble) {
  for (float x : grid(-80.0f, 40.0f, 400000)) {
    const double expected = 1.0 / (1.0 + std::exp(-static_cast<double>(x)));
    const double error = std::abs(s2s::cpu::sigmoid_float(x) - expected);
    ASSERT_LE(error, kSigmoidRelative * expected) << "x = " << x;
  }
}

TEST(ActivationsCpu, SaturateAtInfinityAndPropagateNan) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(s2s::cpu::tanh_float(inf), 1.0f);
  EXPECT_EQ(s2s::cpu::tanh_float(-inf), -1.0f);
  EXPECT_EQ(s2s::cpu::tanh_float(1e30f), 1.0f);
  EXPECT_EQ(s2s::cpu::sigmoid_float(inf), 1.0f);
  EXPECT_LT(s2s::cpu::sigmoid_float(-inf), 1e-37f);
  EXPECT_GE(s2s::cpu::sigmoid_float(-inf), 0.0f);
  EXPECT_TRUE(std::isfinite(s2s::cpu::exp_float(200.0f)));
  EXPECT_TRUE(std::isnan(s2s::cpu::exp_float(nan)));
  EXPECT_TRUE(std::isnan(s2s::cpu::tanh_float(nan)));
  EXPECT_TRUE(std::isnan(s2s::cpu::sigmoid_float(nan)));
}

TEST(ActivationsCpu, DoubleIsExactlyLibm) {
  for (double x : {-30.0, -2.5, -1e-9, 0.0, 0.3, 1.0, 7.25, 40.0}) {
    EXPECT_EQ(s2s::cpu::sigmoid(x), 1.0 / (1.0 + std::exp(-x))) << x;
    EXPECT_EQ(s2s::cpu::tanh_activation(x), std::tanh(x)) << x;
  }
}

}  // namespace
}  // namespace s2s::test
