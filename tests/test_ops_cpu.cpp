// Tests of the CPU reference ops other than the RNN stack: gradients by central differences in
// float64, hand-computed values, GradMode, float against double, and the CpuMemory/Ops wiring.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cpu/ops_cpu.h"
#include "gradcheck.h"
#include "s2s/backend.h"
#include "s2s/buffer.h"
#include "s2s/error.h"
#include "s2s/random.h"

namespace s2s::test {
namespace {

using cpu::adam_step_cpu;
using cpu::argmax_cpu;
using cpu::clip_by_norm_cpu;
using cpu::embedding_backward_cpu;
using cpu::embedding_forward_cpu;
using cpu::global_norm_cpu;
using cpu::linear_backward_cpu;
using cpu::linear_forward_cpu;
using cpu::mse_cpu;
using cpu::repeat_backward_cpu;
using cpu::repeat_forward_cpu;
using cpu::sgd_step_cpu;
using cpu::softmax_cross_entropy_cpu;

// Double results against literals computed independently in Python (float64): only the order
// of a few roundings differs, so agreement is to a few ulps of values of order 1.
constexpr double kLiteralAtol = 1e-13;
constexpr double kLiteralRtol = 1e-12;
// A float run against the double run of the same op on the same inputs (values of order 1,
// sums over at most a few dozen terms): float's 6e-8 unit roundoff times a small growth factor.
constexpr double kFloatVsDoubleAtol = 1e-5;
constexpr double kFloatVsDoubleRtol = 1e-5;
// GEMM with beta = 1 against beta = 0 plus the old values: BLAS may add the old value before the
// last partial product, so the two can differ by an ulp or two of the result.
constexpr double kGemmAccumulateAtol = 1e-15;
constexpr double kGemmAccumulateRtol = 1e-14;
// Filler for outputs that must be overwritten: any value leaking through shows up.
constexpr double kGarbage = -777.0;

void expect_near_all(const std::vector<double>& actual, const std::vector<double>& expected,
                     double atol, double rtol, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], atol + rtol * std::abs(expected[i]))
        << what << "[" << i << "]";
  }
}

std::vector<float> to_float(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

void expect_float_matches_double(const std::vector<float>& actual,
                                 const std::vector<double>& expected, const std::string& what) {
  expect_near_all(std::vector<double>(actual.begin(), actual.end()), expected,
                  kFloatVsDoubleAtol, kFloatVsDoubleRtol, what);
}

std::vector<double> added(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> sum(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) sum[i] = a[i] + b[i];
  return sum;
}

// ---- embedding ---------------------------------------------------------------------------------

struct EmbeddingCase {
  static constexpr int kVocab = 6;
  static constexpr int kWidth = 3;
  // Token 2 three times, token 0 twice, tokens 1 and 4 never: repeated rows and empty rows.
  std::vector<std::int32_t> tokens = {2, 0, 2, 5, 2, 0, 3};
  int n() const { return static_cast<int>(tokens.size()); }
};

TEST(Embedding, ForwardGathersRows) {
  EmbeddingCase c;
  Rng rng(101);
  const auto table = random_vector(c.kVocab * c.kWidth, rng);
  std::vector<double> out(c.tokens.size() * c.kWidth, kGarbage);
  embedding_forward_cpu(table.data(), c.tokens.data(), c.n(), c.kVocab, c.kWidth, out.data());
  for (int i = 0; i < c.n(); ++i)
    for (int e = 0; e < c.kWidth; ++e)
      EXPECT_EQ(out[i * c.kWidth + e], table[c.tokens[i] * c.kWidth + e]) << i << "," << e;
}

TEST(Embedding, GradientMatchesFiniteDifferencesWithRepeatedTokens) {
  EmbeddingCase c;
  Rng rng(102);
  auto table = random_vector(c.kVocab * c.kWidth, rng);
  const auto weights = random_vector(c.tokens.size() * c.kWidth, rng);
  std::vector<double> out(weights.size());
  auto loss = [&] {
    embedding_forward_cpu(table.data(), c.tokens.data(), c.n(), c.kVocab, c.kWidth, out.data());
    return weighted_sum(out.data(), weights);
  };
  std::vector<double> dtable(table.size(), kGarbage);
  embedding_backward_cpu(c.tokens.data(), weights.data(), c.n(), c.kVocab, c.kWidth,
                         dtable.data(), GradMode::overwrite);
  expect_gradients_near(dtable, numeric_gradient(loss, table.data(), table.size()), "dtable");
  // Tokens 1 and 4 do not occur: their rows must be exactly zero, not left as they were.
  for (int e = 0; e < c.kWidth; ++e) {
    EXPECT_EQ(dtable[1 * c.kWidth + e], 0.0);
    EXPECT_EQ(dtable[4 * c.kWidth + e], 0.0);
  }
}

TEST(Embedding, AccumulateAddsExactlyOntoExisting) {
  EmbeddingCase c;
  Rng rng(103);
  const auto dout = random_vector(c.tokens.size() * c.kWidth, rng);
  const auto existing = random_vector(c.kVocab * c.kWidth, rng);
  std::vector<double> fresh(existing.size(), kGarbage);
  embedding_backward_cpu(c.tokens.data(), dout.data(), c.n(), c.kVocab, c.kWidth, fresh.data(),
                         GradMode::overwrite);
  auto accumulated = existing;
  embedding_backward_cpu(c.tokens.data(), dout.data(), c.n(), c.kVocab, c.kWidth,
                         accumulated.data(), GradMode::accumulate);
  const auto expected = added(existing, fresh);
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(accumulated[i], expected[i]) << i;
}

// ---- linear ------------------------------------------------------------------------------------

struct LinearCase {
  static constexpr int kRows = 5;
  static constexpr int kIn = 3;
  static constexpr int kOut = 4;
  std::vector<double> x, weight, bias, dy_weights;
  explicit LinearCase(std::uint64_t seed) {
    Rng rng(seed);
    x = random_vector(kRows * kIn, rng);
    weight = random_vector(kOut * kIn, rng);
    bias = random_vector(kOut, rng);
    dy_weights = random_vector(kRows * kOut, rng);
  }
};

TEST(Linear, ForwardEqualsDefinition) {
  LinearCase c(201);
  for (const bool with_bias : {true, false}) {
    std::vector<double> y(c.kRows * c.kOut, kGarbage);
    linear_forward_cpu(c.x.data(), c.weight.data(), with_bias ? c.bias.data() : nullptr, c.kRows,
                       c.kIn, c.kOut, y.data());
    for (int i = 0; i < c.kRows; ++i) {
      for (int o = 0; o < c.kOut; ++o) {
        double expected = with_bias ? c.bias[o] : 0.0;
        for (int k = 0; k < c.kIn; ++k) expected += c.x[i * c.kIn + k] * c.weight[o * c.kIn + k];
        EXPECT_NEAR(y[i * c.kOut + o], expected, kLiteralAtol + kLiteralRtol * std::abs(expected))
            << "bias " << with_bias << " row " << i << " out " << o;
      }
    }
  }
}

void check_linear_gradients(bool with_bias) {
  LinearCase c(with_bias ? 202 : 203);
  double* bias = with_bias ? c.bias.data() : nullptr;
  std::vector<double> y(c.kRows * c.kOut);
  auto loss = [&] {
    linear_forward_cpu(c.x.data(), c.weight.data(), bias, c.kRows, c.kIn, c.kOut, y.data());
    return weighted_sum(y.data(), c.dy_weights);
  };
  std::vector<double> dx(c.x.size(), kGarbage), dweight(c.weight.size(), kGarbage);
  std::vector<double> dbias(c.kOut, kGarbage);
  linear_backward_cpu(c.x.data(), c.weight.data(), c.dy_weights.data(), c.kRows, c.kIn, c.kOut,
                      dx.data(), dweight.data(), with_bias ? dbias.data() : nullptr,
                      GradMode::overwrite);
  expect_gradients_near(dx, numeric_gradient(loss, c.x.data(), c.x.size()), "dx");
  expect_gradients_near(dweight, numeric_gradient(loss, c.weight.data(), c.weight.size()),
                        "dweight");
  if (with_bias) {
    expect_gradients_near(dbias, numeric_gradient(loss, c.bias.data(), c.bias.size()), "dbias");
  } else {
    for (double v : dbias) EXPECT_EQ(v, kGarbage) << "dbias is null: nothing may be written";
  }
  // dx is nullable: dweight must not depend on whether dx was wanted.
  std::vector<double> dweight_alone(c.weight.size(), kGarbage);
  linear_backward_cpu(c.x.data(), c.weight.data(), c.dy_weights.data(), c.kRows, c.kIn, c.kOut,
                      static_cast<double*>(nullptr), dweight_alone.data(),
                      static_cast<double*>(nullptr), GradMode::overwrite);
  EXPECT_EQ(dweight_alone, dweight);
}

TEST(Linear, GradientsMatchFiniteDifferencesWithBias) { check_linear_gradients(true); }
TEST(Linear, GradientsMatchFiniteDifferencesWithoutBias) { check_linear_gradients(false); }

TEST(Linear, AccumulateAddsOntoExisting) {
  LinearCase c(204);
  Rng rng(205);
  const auto existing_dweight = random_vector(c.weight.size(), rng);
  const auto existing_dbias = random_vector(c.kOut, rng);
  std::vector<double> dx(c.x.size()), fresh_dweight(c.weight.size(), kGarbage);
  std::vector<double> fresh_dbias(c.kOut, kGarbage);
  linear_backward_cpu(c.x.data(), c.weight.data(), c.dy_weights.data(), c.kRows, c.kIn, c.kOut,
                      dx.data(), fresh_dweight.data(), fresh_dbias.data(), GradMode::overwrite);
  auto dweight = existing_dweight;
  auto dbias = existing_dbias;
  std::vector<double> dx_again(c.x.size(), kGarbage);
  linear_backward_cpu(c.x.data(), c.weight.data(), c.dy_weights.data(), c.kRows, c.kIn, c.kOut,
                      dx_again.data(), dweight.data(), dbias.data(), GradMode::accumulate);
  expect_near_all(dweight, added(existing_dweight, fresh_dweight), kGemmAccumulateAtol,
                  kGemmAccumulateRtol, "dweight");
  const auto expected_dbias = added(existing_dbias, fresh_dbias);
  for (int o = 0; o < c.kOut; ++o) EXPECT_EQ(dbias[o], expected_dbias[o]) << o;
  // dx is an activation gradient: overwritten in either mode.
  EXPECT_EQ(dx_again, dx);
}

// ---- softmax cross-entropy ---------------------------------------------------------------------

TEST(SoftmaxCrossEntropy, HandComputedSmallCase) {
  // T = 2, B = 2, V = 3, lengths {2, 1}: rows 0, 1, 2 are real, row 3 (t = 1, b = 1) is padded.
  // The padded row holds NaN logits and an out-of-range target: neither may be read.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> logits = {1.0, 2.0, 0.5, 0.0, -1.0, 3.0, 2.0, 2.0, 2.0, nan, nan, nan};
  const std::vector<std::int32_t> targets = {1, 0, 2, -1};
  const std::vector<std::int32_t> lengths = {2, 1};
  double loss = kGarbage;
  std::vector<double> dlogits(logits.size(), kGarbage);
  softmax_cross_entropy_cpu(logits.data(), targets.data(), lengths.data(), 2, 2, 3, &loss,
                            dlogits.data());
  // python3 -c "import math; r=[([1,2,.5],1),([0,-1,3],0),([2,2,2],2)];
  //   print(sum(math.log(sum(math.exp(v) for v in l))-l[t] for l,t in r)/3)"
  EXPECT_NEAR(loss, 1.5429549921778278, kLiteralAtol + kLiteralRtol * 1.55);
  // python3 -c "import math; r=[([1,2,.5],1),([0,-1,3],0),([2,2,2],2)]; [print([(math.exp(v)/
  //   sum(math.exp(w) for w in l)-(i==t))/3 for i,v in enumerate(l)]) for l,t in r]"
  const std::vector<double> expected = {
      0.07707463254071635, -0.12382276026274582, 0.0467481277220295,
      -0.3177957924740087, 0.005715941848506797, 0.31207985062550186,
      0.11111111111111112, 0.11111111111111112,  -0.2222222222222222,
      0.0,                 0.0,                  0.0};
  expect_near_all(dlogits, expected, kLiteralAtol, kLiteralRtol, "dlogits");
  // Without dlogits the loss is the same.
  double loss_only = kGarbage;
  softmax_cross_entropy_cpu(logits.data(), targets.data(), lengths.data(), 2, 2, 3, &loss_only,
                            static_cast<double*>(nullptr));
  EXPECT_EQ(loss_only, loss);
}

TEST(SoftmaxCrossEntropy, GradientMatchesFiniteDifferencesWithMask) {
  // Sequence 1 has length 0 (all padded), sequence 2 is partly padded, sequence 0 is full.
  constexpr int kSteps = 4, kBatch = 3, kVocab = 5;
  const std::vector<std::int32_t> lengths = {4, 0, 2};
  Rng rng(301);
  auto logits = random_vector(kSteps * kBatch * kVocab, rng, -3.0, 3.0);
  std::vector<std::int32_t> targets(kSteps * kBatch);
  for (auto& t : targets) t = static_cast<std::int32_t>(rng.below(kVocab));
  auto loss = [&] {
    double value = 0;
    softmax_cross_entropy_cpu(logits.data(), targets.data(), lengths.data(), kSteps, kBatch,
                              kVocab, &value, static_cast<double*>(nullptr));
    return value;
  };
  std::vector<double> dlogits(logits.size(), kGarbage);
  double value = kGarbage;
  softmax_cross_entropy_cpu(logits.data(), targets.data(), lengths.data(), kSteps, kBatch, kVocab,
                            &value, dlogits.data());
  // The mean is over the 6 real rows: recompute it directly.
  double sum = 0;
  int real_rows = 0;
  for (int t = 0; t < kSteps; ++t) {
    for (int b = 0; b < kBatch; ++b) {
      if (t >= lengths[b]) continue;
      const double* row = &logits[(t * kBatch + b) * kVocab];
      double z = 0;
      for (int v = 0; v < kVocab; ++v) z += std::exp(row[v]);
      sum += std::log(z) - row[targets[t * kBatch + b]];
      ++real_rows;
    }
  }
  ASSERT_EQ(real_rows, 6);
  EXPECT_NEAR(value, sum / real_rows, kLiteralAtol + kLiteralRtol * std::abs(sum / real_rows));
  expect_gradients_near(dlogits, numeric_gradient(loss, logits.data(), logits.size()), "dlogits");
  for (int t = 0; t < kSteps; ++t) {
    for (int b = 0; b < kBatch; ++b) {
      if (t < lengths[b]) continue;
      for (int v = 0; v < kVocab; ++v) {
        EXPECT_EQ(dlogits[(t * kBatch + b) * kVocab + v], 0.0) << "padded t=" << t << " b=" << b;
      }
    }
  }
}

TEST(SoftmaxCrossEntropy, NoRealRowGivesZeroLossAndZeroGradient) {
  const std::vector<double> logits(2 * 2 * 3, 1.5);
  const std::vector<std::int32_t> targets = {-5, -5, -5, -5};  // never read
  const std::vector<std::int32_t> lengths = {0, 0};
  double loss = kGarbage;
  std::vector<double> dlogits(logits.size(), kGarbage);
  softmax_cross_entropy_cpu(logits.data(), targets.data(), lengths.data(), 2, 2, 3, &loss,
                            dlogits.data());
  EXPECT_EQ(loss, 0.0);
  for (double d : dlogits) EXPECT_EQ(d, 0.0);
}

TEST(SoftmaxCrossEntropy, StableForLargeLogits) {
  // exp(1000) overflows; log-softmax shifted by the maximum does not.
  const std::vector<double> logits = {1000.0, 999.0, -1000.0};
  const std::vector<std::int32_t> targets = {1};
  const std::vector<std::int32_t> lengths = {1};
  double loss = 0;
  std::vector<double> dlogits(3);
  softmax_cross_entropy_cpu(logits.data(), targets.data(), lengths.data(), 1, 1, 3, &loss,
                            dlogits.data());
  // python3 -c "import math; print(1+math.log1p(math.exp(-1)))"
  EXPECT_NEAR(loss, 1.3132616875182228, kLiteralAtol + kLiteralRtol * 1.32);
  for (double d : dlogits) EXPECT_TRUE(std::isfinite(d));
}

// ---- mean squared error ------------------------------------------------------------------------

TEST(Mse, HandComputedSmallCase) {
  // T = 2, B = 2, F = 2, lengths {1, 2}: row 2 (t = 1, b = 0) is padded and holds NaN.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> prediction = {1.0, 2.0, 0.5, -0.5, nan, nan, 3.0, 0.0};
  const std::vector<double> target = {0.0, 2.5, 1.0, 1.0, nan, nan, 1.0, -1.0};
  const std::vector<std::int32_t> lengths = {1, 2};
  double loss = kGarbage;
  std::vector<double> dprediction(prediction.size(), kGarbage);
  mse_cpu(prediction.data(), target.data(), lengths.data(), 2, 2, 2, &loss, dprediction.data());
  // python3 -c "d=[1,-.5,-.5,-1.5,2,1]; print(sum(v*v for v in d)/6, [2*v/6 for v in d])"
  EXPECT_NEAR(loss, 1.4583333333333333, kLiteralAtol + kLiteralRtol * 1.46);
  const std::vector<double> expected = {0.3333333333333333,  -0.16666666666666666,
                                        -0.16666666666666666, -0.5,
                                        0.0,                  0.0,
                                        0.6666666666666666,  0.3333333333333333};
  expect_near_all(dprediction, expected, kLiteralAtol, kLiteralRtol, "dprediction");
}

TEST(Mse, GradientMatchesFiniteDifferencesWithMask) {
  constexpr int kSteps = 3, kBatch = 3, kFeatures = 2;
  const std::vector<std::int32_t> lengths = {3, 1, 0};
  Rng rng(401);
  auto prediction = random_vector(kSteps * kBatch * kFeatures, rng);
  const auto target = random_vector(prediction.size(), rng);
  auto loss = [&] {
    double value = 0;
    mse_cpu(prediction.data(), target.data(), lengths.data(), kSteps, kBatch, kFeatures, &value,
            static_cast<double*>(nullptr));
    return value;
  };
  std::vector<double> dprediction(prediction.size(), kGarbage);
  double value = kGarbage;
  mse_cpu(prediction.data(), target.data(), lengths.data(), kSteps, kBatch, kFeatures, &value,
          dprediction.data());
  expect_gradients_near(dprediction, numeric_gradient(loss, prediction.data(), prediction.size()),
                        "dprediction");
  // No real row at all: loss 0, gradient 0.
  const std::vector<std::int32_t> empty = {0, 0, 0};
  mse_cpu(prediction.data(), target.data(), empty.data(), kSteps, kBatch, kFeatures, &value,
          dprediction.data());
  EXPECT_EQ(value, 0.0);
  for (double d : dprediction) EXPECT_EQ(d, 0.0);
}

// ---- argmax ------------------------------------------------------------------------------------

TEST(Argmax, FirstMaximumOnTies) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> logits = {
      1.0,  3.0,  3.0, 2.0,   // tie between 1 and 2 -> 1
      5.0,  5.0,  5.0, 5.0,   // all equal -> 0
      -1.0, -1.0, 0.0, 0.0,   // tie at the end -> 2
      0.0,  -2.0, 7.0, -9.0,  // plain -> 2
      1.0,  nan,  9.0, nan};  // a NaN counts as the maximum, like torch.argmax -> 1
  std::vector<std::int32_t> out(5, -1);
  argmax_cpu(logits.data(), 5, 4, out.data());
  EXPECT_EQ(out, (std::vector<std::int32_t>{1, 0, 2, 2, 1}));
}

// ---- repeat ------------------------------------------------------------------------------------

TEST(Repeat, ForwardCopiesAndBackwardMatchesFiniteDifferences) {
  constexpr int kSteps = 3, kBatch = 2, kWidth = 4;
  Rng rng(501);
  auto x = random_vector(kBatch * kWidth, rng);
  const auto weights = random_vector(kSteps * kBatch * kWidth, rng);
  std::vector<double> out(weights.size(), kGarbage);
  repeat_forward_cpu(x.data(), kSteps, kBatch, kWidth, out.data());
  for (int t = 0; t < kSteps; ++t)
    for (int i = 0; i < kBatch * kWidth; ++i) EXPECT_EQ(out[t * kBatch * kWidth + i], x[i]);
  auto loss = [&] {
    repeat_forward_cpu(x.data(), kSteps, kBatch, kWidth, out.data());
    return weighted_sum(out.data(), weights);
  };
  std::vector<double> dx(x.size(), kGarbage);
  repeat_backward_cpu(weights.data(), kSteps, kBatch, kWidth, dx.data(), GradMode::overwrite);
  expect_gradients_near(dx, numeric_gradient(loss, x.data(), x.size()), "dx");

  const auto existing = random_vector(x.size(), rng);
  auto accumulated = existing;
  repeat_backward_cpu(weights.data(), kSteps, kBatch, kWidth, accumulated.data(),
                      GradMode::accumulate);
  const auto expected = added(existing, dx);
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(accumulated[i], expected[i]) << i;
}

// ---- optimizer ---------------------------------------------------------------------------------

// Three steps from p = [0.5, -1, 2] with these gradients, in every optimizer test below.
const std::vector<std::vector<double>> kStepGrads = {
    {0.1, -0.2, 0.3}, {-0.4, 0.5, 0.0}, {0.2, 0.2, -0.1}};
const std::vector<double> kStartParams = {0.5, -1.0, 2.0};

// python3 -c "
// G=[[.1,-.2,.3],[-.4,.5,0],[.2,.2,-.1]]
// for mom in (0.0,0.9):
//   p=[.5,-1.,2.]; v=[0.]*3
//   for g in G:
//     for i in range(3):
//       if mom==0: p[i]-=.1*g[i]
//       else: v[i]=mom*v[i]+g[i]; p[i]-=.1*v[i]
//     print(mom,p,v)"
TEST(Optimizer, SgdWithoutMomentumEqualsHandComputed) {
  const std::vector<std::vector<double>> expected = {
      {0.49, -0.98, 1.97}, {0.53, -1.03, 1.97}, {0.51, -1.05, 1.98}};
  auto params = kStartParams;
  for (std::size_t s = 0; s < kStepGrads.size(); ++s) {
    // momentum 0: the velocity is not used and may be null.
    sgd_step_cpu(params.data(), kStepGrads[s].data(), static_cast<double*>(nullptr), 3, 0.1, 0.0);
    expect_near_all(params, expected[s], kLiteralAtol, kLiteralRtol,
                    "params after step " + std::to_string(s + 1));
  }
}

TEST(Optimizer, SgdWithMomentumEqualsHandComputed) {
  const std::vector<std::vector<double>> expected_params = {
      {0.49, -0.98, 1.97}, {0.521, -1.012, 1.943}, {0.5289, -1.0608, 1.9287}};
  const std::vector<std::vector<double>> expected_velocity = {
      {0.1, -0.2, 0.3}, {-0.31, 0.32, 0.27}, {-0.079, 0.488, 0.143}};
  auto params = kStartParams;
  std::vector<double> velocity(3, 0.0);
  for (std::size_t s = 0; s < kStepGrads.size(); ++s) {
    sgd_step_cpu(params.data(), kStepGrads[s].data(), velocity.data(), 3, 0.1, 0.9);
    const std::string when = " after step " + std::to_string(s + 1);
    expect_near_all(params, expected_params[s], kLiteralAtol, kLiteralRtol, "params" + when);
    expect_near_all(velocity, expected_velocity[s], kLiteralAtol, kLiteralRtol, "velocity" + when);
  }
}

// Keras defaults: lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7.
// python3 -c "
// import math; G=[[.1,-.2,.3],[-.4,.5,0],[.2,.2,-.1]]; lr,b1,b2,e=1e-3,.9,.999,1e-7
// p=[.5,-1.,2.]; m=[0.]*3; v=[0.]*3
// for s,g in enumerate(G,1):
//   a=lr*math.sqrt(1-b2**s)/(1-b1**s)
//   for i in range(3):
//     m[i]=b1*m[i]+(1-b1)*g[i]; v[i]=b2*v[i]+(1-b2)*g[i]**2; p[i]-=a*m[i]/(math.sqrt(v[i])+e)
//   print(p,m,v)"
TEST(Optimizer, AdamKerasDefaultsEqualsHandComputed) {
  const std::vector<std::vector<double>> expected_params = {
      {0.49900003162177664, -0.9990000158111383, 1.9990000105408143},
      {0.4995595308245253, -0.9994422284779804, 1.9983299593531716},
      {0.4996697037278893, -0.9999851684831786, 1.998040826883959}};
  const std::vector<std::vector<double>> expected_m = {
      {0.01, -0.02, 0.03}, {-0.031, 0.032, 0.027}, {-0.0079, 0.0488, 0.0143}};
  const std::vector<std::vector<double>> expected_v = {
      {1e-05, 4e-05, 9e-05},
      {0.00016999, 0.00028996, 8.991e-05},
      {0.00020982001, 0.00032967004, 9.982009e-05}};
  auto params = kStartParams;
  std::vector<double> m(3, 0.0), v(3, 0.0);
  for (std::size_t s = 0; s < kStepGrads.size(); ++s) {
    adam_step_cpu(params.data(), kStepGrads[s].data(), m.data(), v.data(), 3, 0.001, 0.9, 0.999,
                  1e-7, static_cast<std::int64_t>(s + 1));
    const std::string when = " after step " + std::to_string(s + 1);
    expect_near_all(params, expected_params[s], kLiteralAtol, kLiteralRtol, "params" + when);
    expect_near_all(m, expected_m[s], kLiteralAtol, kLiteralRtol, "m" + when);
    expect_near_all(v, expected_v[s], kLiteralAtol, kLiteralRtol, "v" + when);
  }
}

TEST(Optimizer, GlobalNormValueAndNonFinitePropagation) {
  const std::vector<double> x = {3.0, -4.0, 12.0};
  double norm = kGarbage;
  global_norm_cpu(x.data(), x.size(), &norm);
  EXPECT_EQ(norm, 13.0);

  auto with_nan = x;
  with_nan[1] = std::numeric_limits<double>::quiet_NaN();
  global_norm_cpu(with_nan.data(), with_nan.size(), &norm);
  EXPECT_TRUE(std::isnan(norm)) << norm;

  auto with_inf = x;
  with_inf[2] = -std::numeric_limits<double>::infinity();
  global_norm_cpu(with_inf.data(), with_inf.size(), &norm);
  EXPECT_TRUE(std::isinf(norm)) << norm;
}

TEST(Optimizer, ClipByNormEqualsDefinition) {
  const std::vector<double> x = {3.0, -4.0, 12.0};  // norm 13
  double norm = 0;
  global_norm_cpu(x.data(), x.size(), &norm);
  // Below, equal to and above the limit: x * max_norm / max(norm, max_norm).
  for (const double max_norm : {20.0, 13.0, 6.5, 1.0}) {
    auto clipped = x;
    clip_by_norm_cpu(clipped.data(), clipped.size(), &norm, max_norm);
    const double scale = max_norm / std::max(norm, max_norm);
    for (std::size_t i = 0; i < x.size(); ++i)
      EXPECT_NEAR(clipped[i], x[i] * scale, kLiteralAtol + kLiteralRtol * std::abs(x[i]))
          << "max_norm " << max_norm << " [" << i << "]";
    double clipped_norm = 0;
    global_norm_cpu(clipped.data(), clipped.size(), &clipped_norm);
    EXPECT_NEAR(clipped_norm, std::min(norm, max_norm), kLiteralAtol + kLiteralRtol * 13.0);
  }
  // At or under the limit nothing changes, not even by a rounding.
  auto unchanged = x;
  clip_by_norm_cpu(unchanged.data(), unchanged.size(), &norm, 13.0);
  EXPECT_EQ(unchanged, x);
  // A non-finite norm makes everything NaN, as tf.clip_by_global_norm does.
  const double inf = std::numeric_limits<double>::infinity();
  auto poisoned = x;
  clip_by_norm_cpu(poisoned.data(), poisoned.size(), &inf, 1.0);
  for (double p : poisoned) EXPECT_TRUE(std::isnan(p)) << p;
}

// ---- float against double ----------------------------------------------------------------------

TEST(FloatVsDouble, EveryOpMatchesWithinTolerance) {
  Rng rng(601);
  // Linear, odd shapes.
  constexpr int kRows = 7, kIn = 5, kOut = 3;
  const auto x = random_vector(kRows * kIn, rng), weight = random_vector(kOut * kIn, rng);
  const auto bias = random_vector(kOut, rng), dy = random_vector(kRows * kOut, rng);
  {
    std::vector<double> y(kRows * kOut), dx(x.size()), dw(weight.size()), db(kOut);
    linear_forward_cpu(x.data(), weight.data(), bias.data(), kRows, kIn, kOut, y.data());
    linear_backward_cpu(x.data(), weight.data(), dy.data(), kRows, kIn, kOut, dx.data(),
                        dw.data(), db.data(), GradMode::overwrite);
    const auto xf = to_float(x), wf = to_float(weight), bf = to_float(bias), dyf = to_float(dy);
    std::vector<float> yf(y.size()), dxf(dx.size()), dwf(dw.size()), dbf(db.size());
    linear_forward_cpu(xf.data(), wf.data(), bf.data(), kRows, kIn, kOut, yf.data());
    linear_backward_cpu(xf.data(), wf.data(), dyf.data(), kRows, kIn, kOut, dxf.data(),
                        dwf.data(), dbf.data(), GradMode::overwrite);
    expect_float_matches_double(yf, y, "linear y");
    expect_float_matches_double(dxf, dx, "linear dx");
    expect_float_matches_double(dwf, dw, "linear dweight");
    expect_float_matches_double(dbf, db, "linear dbias");
  }
  // Embedding.
  {
    const std::vector<std::int32_t> tokens = {3, 1, 3, 0, 3};
    const auto table = random_vector(4 * 3, rng), dout = random_vector(tokens.size() * 3, rng);
    std::vector<double> out(dout.size()), dtable(table.size());
    embedding_forward_cpu(table.data(), tokens.data(), 5, 4, 3, out.data());
    embedding_backward_cpu(tokens.data(), dout.data(), 5, 4, 3, dtable.data(),
                           GradMode::overwrite);
    const auto tablef = to_float(table), doutf = to_float(dout);
    std::vector<float> outf(out.size()), dtablef(dtable.size());
    embedding_forward_cpu(tablef.data(), tokens.data(), 5, 4, 3, outf.data());
    embedding_backward_cpu(tokens.data(), doutf.data(), 5, 4, 3, dtablef.data(),
                           GradMode::overwrite);
    expect_float_matches_double(outf, out, "embedding out");
    expect_float_matches_double(dtablef, dtable, "embedding dtable");
  }
  // Losses with a mask.
  {
    constexpr int kSteps = 3, kBatch = 2, kVocab = 6;
    const std::vector<std::int32_t> lengths = {3, 1};
    const auto logits = random_vector(kSteps * kBatch * kVocab, rng, -4.0, 4.0);
    std::vector<std::int32_t> targets(kSteps * kBatch);
    for (auto& t : targets) t = static_cast<std::int32_t>(rng.below(kVocab));
    double loss = 0;
    std::vector<double> dlogits(logits.size());
    softmax_cross_entropy_cpu(logits.data(), targets.data(), lengths.data(), kSteps, kBatch,
                              kVocab, &loss, dlogits.data());
    const auto logitsf = to_float(logits);
    float lossf = 0;
    std::vector<float> dlogitsf(logits.size());
    softmax_cross_entropy_cpu(logitsf.data(), targets.data(), lengths.data(), kSteps, kBatch,
                              kVocab, &lossf, dlogitsf.data());
    expect_float_matches_double({lossf}, {loss}, "cross-entropy loss");
    expect_float_matches_double(dlogitsf, dlogits, "cross-entropy dlogits");

    const auto target = random_vector(logits.size(), rng);
    std::vector<double> dprediction(logits.size());
    mse_cpu(logits.data(), target.data(), lengths.data(), kSteps, kBatch, kVocab, &loss,
            dprediction.data());
    const auto targetf = to_float(target);
    std::vector<float> dpredictionf(logits.size());
    mse_cpu(logitsf.data(), targetf.data(), lengths.data(), kSteps, kBatch, kVocab, &lossf,
            dpredictionf.data());
    expect_float_matches_double({lossf}, {loss}, "mse loss");
    expect_float_matches_double(dpredictionf, dprediction, "mse dprediction");
  }
  // Repeat backward, global norm, clipping, Adam.
  {
    const auto dout = random_vector(4 * 3 * 2, rng);
    std::vector<double> dx(3 * 2);
    repeat_backward_cpu(dout.data(), 4, 3, 2, dx.data(), GradMode::overwrite);
    const auto doutf = to_float(dout);
    std::vector<float> dxf(dx.size());
    repeat_backward_cpu(doutf.data(), 4, 3, 2, dxf.data(), GradMode::overwrite);
    expect_float_matches_double(dxf, dx, "repeat dx");

    auto params = random_vector(50, rng);
    const auto grads = random_vector(50, rng);
    auto paramsf = to_float(params);
    const auto gradsf = to_float(grads);
    double norm = 0;
    float normf = 0;
    global_norm_cpu(grads.data(), grads.size(), &norm);
    global_norm_cpu(gradsf.data(), gradsf.size(), &normf);
    expect_float_matches_double({normf}, {norm}, "global norm");
    auto clipped = grads;
    auto clippedf = gradsf;
    clip_by_norm_cpu(clipped.data(), clipped.size(), &norm, 1.0);
    clip_by_norm_cpu(clippedf.data(), clippedf.size(), &normf, 1.0f);
    expect_float_matches_double(clippedf, clipped, "clipped");

    std::vector<double> m(50, 0.0), v(50, 0.0);
    std::vector<float> mf(50, 0.0f), vf(50, 0.0f);
    for (std::int64_t step = 1; step <= 3; ++step) {
      adam_step_cpu(params.data(), grads.data(), m.data(), v.data(), 50, 0.01, 0.9, 0.999, 1e-7,
                    step);
      adam_step_cpu(paramsf.data(), gradsf.data(), mf.data(), vf.data(), 50, 0.01f, 0.9f, 0.999f,
                    1e-7f, step);
    }
    expect_float_matches_double(paramsf, params, "adam params");
  }
}

// ---- through the backend interface -------------------------------------------------------------

TEST(CpuBackend, OpsForwardToTheReferenceFunctions) {
  std::unique_ptr<Ops<double>> ops = make_cpu_ops<double>();
  ASSERT_NE(ops, nullptr);
  EXPECT_EQ(ops->kind(), BackendKind::cpu);
  Memory& memory = ops->memory();

  constexpr int kSteps = 2, kBatch = 3, kIn = 4, kVocab = 5;
  constexpr int kRows = kSteps * kBatch;
  Rng rng(701);
  const auto x = random_vector(kRows * kIn, rng), weight = random_vector(kVocab * kIn, rng);
  const auto bias = random_vector(kVocab, rng);
  const std::vector<std::int32_t> targets = {0, 4, 2, 1, 3, 3};
  const std::vector<std::int32_t> lengths = {2, 1, 0};

  // Reference: the free functions on host vectors.
  std::vector<double> logits(kRows * kVocab), dlogits(logits.size()), dx(x.size());
  std::vector<double> dweight(weight.size()), dbias(kVocab);
  double loss = 0;
  linear_forward_cpu(x.data(), weight.data(), bias.data(), kRows, kIn, kVocab, logits.data());
  softmax_cross_entropy_cpu(logits.data(), targets.data(), lengths.data(), kSteps, kBatch, kVocab,
                            &loss, dlogits.data());
  linear_backward_cpu(x.data(), weight.data(), dlogits.data(), kRows, kIn, kVocab, dx.data(),
                      dweight.data(), dbias.data(), GradMode::overwrite);

  // Same chain through Ops<double> on Buffers in the backend's memory.
  Buffer<double> x_b(memory, x.size()), weight_b(memory, weight.size()), bias_b(memory, kVocab);
  Buffer<double> logits_b(memory, logits.size()), dlogits_b(memory, logits.size());
  Buffer<double> dx_b(memory, x.size()), dweight_b(memory, weight.size());
  Buffer<double> dbias_b(memory, kVocab), loss_b(memory, 1);
  Buffer<std::int32_t> targets_b(memory, targets.size()), lengths_b(memory, lengths.size());
  x_b.upload(x);
  weight_b.upload(weight);
  bias_b.upload(bias);
  targets_b.upload(targets);
  lengths_b.upload(lengths);
  ops->linear_forward(x_b.data(), weight_b.data(), bias_b.data(), kRows, kIn, kVocab,
                      logits_b.data());
  ops->softmax_cross_entropy(logits_b.data(), targets_b.data(), lengths_b.data(), kSteps, kBatch,
                             kVocab, loss_b.data(), dlogits_b.data());
  ops->linear_backward(x_b.data(), weight_b.data(), dlogits_b.data(), kRows, kIn, kVocab,
                       dx_b.data(), dweight_b.data(), dbias_b.data(), GradMode::overwrite);
  memory.synchronize();
  EXPECT_EQ(logits_b.download(), logits);
  EXPECT_EQ(loss_b.download(), std::vector<double>{loss});
  EXPECT_EQ(dlogits_b.download(), dlogits);
  EXPECT_EQ(dx_b.download(), dx);
  EXPECT_EQ(dweight_b.download(), dweight);
  EXPECT_EQ(dbias_b.download(), dbias);

  // An optimizer step and the argmax through the interface too.
  Buffer<double> norm_b(memory, 1);
  ops->global_norm(dweight_b.data(), dweight_b.size(), norm_b.data());
  double norm = 0;
  global_norm_cpu(dweight.data(), dweight.size(), &norm);
  EXPECT_EQ(norm_b.download(), std::vector<double>{norm});
  Buffer<std::int32_t> best_b(memory, kRows);
  ops->argmax(logits_b.data(), kRows, kVocab, best_b.data());
  std::vector<std::int32_t> best(kRows);
  argmax_cpu(logits.data(), kRows, kVocab, best.data());
  EXPECT_EQ(best_b.download(), best);
}

TEST(CpuBackend, MemoryCopiesZeroesAndAligns) {
  auto ops = make_cpu_ops<float>();
  ASSERT_NE(ops, nullptr);
  EXPECT_EQ(ops->kind(), BackendKind::cpu);
  Memory& memory = ops->memory();
  const std::vector<float> values = {1.f, 2.f, 3.f, 4.f, 5.f};
  Buffer<float> a(memory, values.size()), b(memory, values.size());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % 64, 0u);
  a.upload(values);
  memory.copy(b.data(), a.data(), values.size() * sizeof(float));
  EXPECT_EQ(b.download(), values);
  a.zero();
  EXPECT_EQ(a.download(), std::vector<float>(values.size(), 0.f));
  EXPECT_EQ(b.download(), values);
  // Zero bytes: no copy, and allocate still returns a releasable pointer.
  memory.copy(b.data(), a.data(), 0);
  EXPECT_EQ(b.download(), values);
  void* empty = memory.allocate(0);
  EXPECT_NE(empty, nullptr);
  memory.release(empty);
}

TEST(CpuBackend, AbsurdAllocationThrowsErrorNamingTheSize) {
  auto ops = make_cpu_ops<double>();
  for (const std::size_t bytes :
       {std::numeric_limits<std::size_t>::max(), std::numeric_limits<std::size_t>::max() / 2,
        std::size_t{1} << 60}) {
    try {
      void* pointer = ops->memory().allocate(bytes);
      ops->memory().release(pointer);
      ADD_FAILURE() << "allocating " << bytes << " bytes did not throw";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(std::to_string(bytes)), std::string::npos)
          << error.what();
    }
  }
}

}  // namespace
}  // namespace s2s::test
