// Tests of the CPU reference's elementwise, layout and decoding ops (host/cpu/elementwise_cpu.cpp,
// layout_cpu.cpp, log_softmax in loss_cpu.cpp): definitions, gradients by central differences in
// float64, GradMode, and the Ops<T> wiring.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "cpu/ops_cpu.h"
#include "gradcheck.h"
#include "s2s/backend.h"
#include "s2s/error.h"
#include "s2s/random.h"

namespace s2s::test {
namespace {

// A value no op writes: outputs start as it, so an element an op forgot stands out.
constexpr double kGarbage = -12345.0;
// log_softmax sums in double: exp of its outputs sums to 1 within a few ulps.
constexpr double kProbabilitySumTolerance = 1e-12;

double weighted_sum(const std::vector<double>& values, const std::vector<double>& weights) {
  double sum = 0;
  for (std::size_t i = 0; i < values.size(); ++i) sum += values[i] * weights[i];
  return sum;
}

TEST(ElementwiseOps, TanhForwardAndBackwardMatchFiniteDifferences) {
  Rng rng(701);
  auto x = random_vector(37, rng, -3, 3);
  const auto w = random_vector(x.size(), rng);
  std::vector<double> y(x.size(), kGarbage);
  cpu::tanh_forward_cpu(x.data(), x.size(), y.data());
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_DOUBLE_EQ(y[i], std::tanh(x[i]));
  auto loss = [&] {
    std::vector<double> out(x.size());
    cpu::tanh_forward_cpu(x.data(), x.size(), out.data());
    return weighted_sum(out, w);
  };
  std::vector<double> dx(x.size(), kGarbage);
  cpu::tanh_backward_cpu(y.data(), w.data(), x.size(), dx.data());
  expect_gradients_near(dx, numeric_gradient(loss, x.data(), x.size()), "dx");
  // In place: y may alias x, dx may alias dy.
  auto in_place = x;
  cpu::tanh_forward_cpu(in_place.data(), in_place.size(), in_place.data());
  EXPECT_EQ(in_place, y);
  auto dy = w;
  cpu::tanh_backward_cpu(y.data(), dy.data(), dy.size(), dy.data());
  EXPECT_EQ(dy, dx);
}

TEST(ElementwiseOps, MultiplyAndAccumulate) {
  const std::vector<double> x = {1.5, -2, 0.25, 4, 7};
  const std::vector<double> mask = {0, 2, 2, 0, 2};
  std::vector<double> out(x.size(), kGarbage);
  cpu::multiply_cpu(x.data(), mask.data(), x.size(), out.data());
  EXPECT_EQ(out, (std::vector<double>{0, -4, 0.5, 0, 14}));
  auto aliased = x;
  cpu::multiply_cpu(aliased.data(), mask.data(), aliased.size(), aliased.data());
  EXPECT_EQ(aliased, out);
  std::vector<double> y = {1, 1, 1, 1, 1};
  cpu::accumulate_cpu(x.data(), x.size(), y.data());
  EXPECT_EQ(y, (std::vector<double>{2.5, -1, 1.25, 5, 8}));
}

TEST(LayoutOps, ConcatColumnsAndSplitColumnsAreAdjoint) {
  constexpr int kRows = 3, kA = 2, kB = 3;
  Rng rng(702);
  auto a = random_vector(kRows * kA, rng);
  auto b = random_vector(kRows * kB, rng);
  std::vector<double> out(kRows * (kA + kB), kGarbage);
  cpu::concat_columns_cpu(a.data(), b.data(), kRows, kA, kB, out.data());
  for (int r = 0; r < kRows; ++r) {
    for (int i = 0; i < kA; ++i) EXPECT_EQ(out[r * (kA + kB) + i], a[r * kA + i]);
    for (int i = 0; i < kB; ++i) EXPECT_EQ(out[r * (kA + kB) + kA + i], b[r * kB + i]);
  }
  const auto w = random_vector(out.size(), rng);
  auto loss = [&] {
    std::vector<double> o(out.size());
    cpu::concat_columns_cpu(a.data(), b.data(), kRows, kA, kB, o.data());
    return weighted_sum(o, w);
  };
  std::vector<double> da(a.size(), kGarbage), db(b.size(), kGarbage);
  cpu::split_columns_cpu(w.data(), kRows, kA, kB, da.data(), db.data(), GradMode::overwrite);
  expect_gradients_near(da, numeric_gradient(loss, a.data(), a.size()), "da");
  expect_gradients_near(db, numeric_gradient(loss, b.data(), b.size()), "db");

  // accumulate adds onto what is there; a null side is skipped.
  std::vector<double> acc(a.size(), 1.0);
  cpu::split_columns_cpu(w.data(), kRows, kA, kB, acc.data(), static_cast<double*>(nullptr),
                         GradMode::accumulate);
  for (std::size_t i = 0; i < acc.size(); ++i) EXPECT_DOUBLE_EQ(acc[i], 1.0 + da[i]);
}

TEST(LayoutOps, ReverseSequencesWithinEachLengthAndZerosAfter) {
  // T = 4, B = 3, X = 1; lengths 4, 2, 1. Values t*10 + b.
  constexpr int kT = 4, kB = 3;
  const std::vector<std::int32_t> lengths = {4, 2, 1};
  std::vector<double> x(kT * kB);
  for (int t = 0; t < kT; ++t)
    for (int b = 0; b < kB; ++b) x[t * kB + b] = t * 10 + b;
  std::vector<double> out(x.size(), kGarbage);
  cpu::reverse_sequences_cpu(x.data(), lengths.data(), kT, kB, 1, out.data());
  EXPECT_EQ(out, (std::vector<double>{30, 11, 2,  //
                                      20, 1, 0,   //
                                      10, 0, 0,   //
                                      0, 0, 0}));
  // Its own backward: reversing twice restores every real position.
  std::vector<double> back(x.size(), kGarbage);
  cpu::reverse_sequences_cpu(out.data(), lengths.data(), kT, kB, 1, back.data());
  for (int t = 0; t < kT; ++t)
    for (int b = 0; b < kB; ++b)
      EXPECT_EQ(back[t * kB + b], t < lengths[b] ? x[t * kB + b] : 0.0) << t << "," << b;
}

TEST(LayoutOps, ReverseSequencesGradientIsTheReverseOfTheOutputGradient) {
  constexpr int kT = 5, kB = 3, kX = 2;
  const std::vector<std::int32_t> lengths = {3, 5, 1};
  Rng rng(703);
  auto x = random_vector(kT * kB * kX, rng);
  const auto w = random_vector(x.size(), rng);
  auto loss = [&] {
    std::vector<double> o(x.size());
    cpu::reverse_sequences_cpu(x.data(), lengths.data(), kT, kB, kX, o.data());
    return weighted_sum(o, w);
  };
  std::vector<double> dx(x.size(), kGarbage);
  cpu::reverse_sequences_cpu(w.data(), lengths.data(), kT, kB, kX, dx.data());
  expect_gradients_near(dx, numeric_gradient(loss, x.data(), x.size()), "dx");
}

TEST(LayoutOps, GatherRowsPicksMiddleAxisRowsInEveryGroup) {
  // groups 2, rows_in 3, width 2: x[g, r, w] = 100g + 10r + w.
  std::vector<double> x(2 * 3 * 2);
  for (int g = 0; g < 2; ++g)
    for (int r = 0; r < 3; ++r)
      for (int w = 0; w < 2; ++w) x[(g * 3 + r) * 2 + w] = 100 * g + 10 * r + w;
  const std::vector<std::int32_t> index = {2, 0, 0, 1};
  std::vector<double> out(2 * 4 * 2, kGarbage);
  cpu::gather_rows_cpu(x.data(), index.data(), 2, 3, 4, 2, out.data());
  EXPECT_EQ(out, (std::vector<double>{20, 21, 0, 1, 0, 1, 10, 11,  //
                                      120, 121, 100, 101, 100, 101, 110, 111}));
}

TEST(DecodingOps, LogSoftmaxIsNormalisedStableAndPropagatesNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> logits = {1, 2, 3,         //
                                      1000, 1001, 999,  // large: no overflow
                                      0, nan, 1};
  std::vector<double> out(logits.size(), kGarbage);
  cpu::log_softmax_cpu(logits.data(), 3, 3, out.data());
  for (int row = 0; row < 2; ++row) {
    double sum = 0;
    for (int v = 0; v < 3; ++v) sum += std::exp(out[row * 3 + v]);
    EXPECT_NEAR(sum, 1.0, kProbabilitySumTolerance) << row;
  }
  // log(e^1 + e^2 + e^3) = 3.40760596444438; differences of logits are kept.
  EXPECT_NEAR(out[0], 1 - 3.40760596444438, 1e-13);
  EXPECT_NEAR(out[4] - out[3], 1.0, 1e-12);
  for (int v = 0; v < 3; ++v) EXPECT_TRUE(std::isnan(out[6 + v])) << v;
  // In place.
  auto aliased = logits;
  cpu::log_softmax_cpu(aliased.data(), 2, 3, aliased.data());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(aliased[i], out[i]);
}

TEST(LayoutOps, ReachableThroughTheCpuOps) {
  auto ops = make_cpu_ops<float>();
  const std::vector<float> a = {1, 2}, b = {3};
  std::vector<float> out(3, -1);
  ops->concat_columns(a.data(), b.data(), 1, 2, 1, out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3}));
  const std::vector<std::int32_t> lengths = {3};
  std::vector<float> rev(3, -1);
  ops->reverse_sequences(out.data(), lengths.data(), 3, 1, 1, rev.data());
  EXPECT_EQ(rev, (std::vector<float>{3, 2, 1}));
  const std::vector<std::int32_t> index = {0, 0};
  std::vector<float> gathered(6, -1);
  ops->gather_rows(out.data(), index.data(), 1, 1, 2, 3, gathered.data());
  EXPECT_EQ(gathered, (std::vector<float>{1, 2, 3, 1, 2, 3}));
  std::vector<float> ls(3, -1);
  ops->log_softmax(out.data(), 1, 3, ls.data());
  EXPECT_GT(ls[2], ls[1]);
  // beam_candidates (host/cpu/beam_cpu.cpp; tested in test_decoding.cpp) is reachable too.
  const std::vector<float> beam_score = {0};
  std::vector<float> best(1, 0);
  std::vector<std::int32_t> best_id(1, -1);
  ops->beam_candidates(ls.data(), beam_score.data(), 1, 1, 3, 1, best.data(), best_id.data());
  EXPECT_EQ(best_id[0], 2);
  EXPECT_EQ(best[0], ls[2]);
}

}  // namespace
}  // namespace s2s::test
