// The CPU reference attention ops: each backward against central differences in float64 at odd
// sizes with ragged source lengths, the mask (padded source positions get weight 0 whatever
// their scores, and no gradient), GradMode, float against double, and the Ops<T> wiring.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cpu/ops_cpu.h"
#include "gradcheck.h"
#include "s2s/backend.h"
#include "s2s/buffer.h"
#include "s2s/random.h"

namespace s2s::test {
namespace {

using cpu::additive_scores_backward_cpu;
using cpu::additive_scores_cpu;
using cpu::attention_context_backward_cpu;
using cpu::attention_context_cpu;
using cpu::attention_scores_backward_cpu;
using cpu::attention_scores_cpu;
using cpu::masked_softmax_backward_cpu;
using cpu::masked_softmax_cpu;

// A float run against the double run of the same op on the same inputs (values of order 1,
// sums of a handful of terms): float's 6e-8 unit roundoff times a small growth factor.
constexpr double kFloatVsDoubleTolerance = 1e-5;
// GEMM with beta = 1 against beta = 0 plus the old values: an ulp or two of the result.
constexpr double kAccumulateTolerance = 1e-14;
// Filler for outputs that must be overwritten: any value leaking through shows up.
constexpr double kGarbage = -777.0;

// Odd sizes, and ragged source lengths: one full, one of length 1, one in between.
constexpr int kQueryLen = 3;
constexpr int kSourceLen = 5;
constexpr int kBatch = 3;
constexpr int kWidth = 3;
const std::vector<std::int32_t> kLengths{5, 1, 3};

constexpr std::size_t kQuerySize = static_cast<std::size_t>(kQueryLen) * kBatch * kWidth;
constexpr std::size_t kKeySize = static_cast<std::size_t>(kSourceLen) * kBatch * kWidth;
constexpr std::size_t kScoreSize = static_cast<std::size_t>(kBatch) * kQueryLen * kSourceLen;

bool padded(std::size_t score_index) {
  const int s = static_cast<int>(score_index % kSourceLen);
  const int b = static_cast<int>(score_index / (kQueryLen * kSourceLen));
  return s >= kLengths[b];
}
// Whether row i of a time-major [Ts, B, D] array is a padded source position.
bool padded_source_row(std::size_t index) {
  const std::size_t row = index / kWidth;
  const int s = static_cast<int>(row / kBatch);
  const int b = static_cast<int>(row % kBatch);
  return s >= kLengths[b];
}

std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

void expect_close(const std::vector<float>& f, const std::vector<double>& d, double tol,
                  const std::string& what) {
  ASSERT_EQ(f.size(), d.size()) << what;
  for (std::size_t i = 0; i < d.size(); ++i)
    EXPECT_NEAR(f[i], d[i], tol * (1 + std::abs(d[i]))) << what << "[" << i << "]";
}

TEST(AttentionOpsCpu, DotScoresForwardIsPerSequenceProduct) {
  Rng rng(1);
  auto q = random_vector(kQuerySize, rng), k = random_vector(kKeySize, rng);
  std::vector<double> scores(kScoreSize, kGarbage);
  attention_scores_cpu<double>(q.data(), k.data(), kQueryLen, kSourceLen, kBatch, kWidth,
                               scores.data());
  for (int b = 0; b < kBatch; ++b)
    for (int t = 0; t < kQueryLen; ++t)
      for (int s = 0; s < kSourceLen; ++s) {
        double expected = 0;
        for (int d = 0; d < kWidth; ++d)
          expected += q[(t * kBatch + b) * kWidth + d] * k[(s * kBatch + b) * kWidth + d];
        EXPECT_NEAR(scores[(b * kQueryLen + t) * kSourceLen + s], expected, 1e-14);
      }
}

TEST(AttentionOpsCpu, DotScoresBackwardMatchesFiniteDifferences) {
  Rng rng(2);
  auto q = random_vector(kQuerySize, rng), k = random_vector(kKeySize, rng);
  const auto w = random_vector(kScoreSize, rng);
  std::vector<double> scores(kScoreSize);
  auto loss = [&] {
    attention_scores_cpu<double>(q.data(), k.data(), kQueryLen, kSourceLen, kBatch, kWidth,
                                 scores.data());
    return weighted_sum(scores.data(), w);
  };
  std::vector<double> dq(kQuerySize, kGarbage), dk(kKeySize, kGarbage);
  attention_scores_backward_cpu<double>(q.data(), k.data(), w.data(), kQueryLen, kSourceLen,
                                        kBatch, kWidth, dq.data(), dk.data(),
                                        GradMode::overwrite);
  expect_gradients_near(dq, numeric_gradient(loss, q.data(), q.size()), "dquery");
  expect_gradients_near(dk, numeric_gradient(loss, k.data(), k.size()), "dkeys");

  // accumulate adds to what is there; null outputs are allowed.
  std::vector<double> acc(kQuerySize, 0.5);
  attention_scores_backward_cpu<double>(q.data(), k.data(), w.data(), kQueryLen, kSourceLen,
                                        kBatch, kWidth, acc.data(), nullptr,
                                        GradMode::accumulate);
  for (std::size_t i = 0; i < acc.size(); ++i)
    EXPECT_NEAR(acc[i], dq[i] + 0.5, kAccumulateTolerance) << i;
}

TEST(AttentionOpsCpu, AdditiveScoresBackwardMatchesFiniteDifferences) {
  Rng rng(3);
  auto q = random_vector(kQuerySize, rng), k = random_vector(kKeySize, rng);
  auto v = random_vector(kWidth, rng);
  const auto w = random_vector(kScoreSize, rng);
  std::vector<double> scores(kScoreSize);
  auto loss = [&] {
    additive_scores_cpu<double>(q.data(), k.data(), v.data(), kQueryLen, kSourceLen, kBatch,
                                kWidth, scores.data());
    return weighted_sum(scores.data(), w);
  };
  loss();
  // One value by hand: b = 1, t = 2, s = 4.
  double expected = 0;
  for (int a = 0; a < kWidth; ++a)
    expected += v[a] * std::tanh(q[(2 * kBatch + 1) * kWidth + a] + k[(4 * kBatch + 1) * kWidth + a]);
  EXPECT_NEAR(scores[(1 * kQueryLen + 2) * kSourceLen + 4], expected, 1e-14);

  std::vector<double> dq(kQuerySize, kGarbage), dk(kKeySize, kGarbage), dv(kWidth, kGarbage);
  additive_scores_backward_cpu<double>(q.data(), k.data(), v.data(), w.data(), kQueryLen,
                                       kSourceLen, kBatch, kWidth, dq.data(), dk.data(),
                                       dv.data(), GradMode::overwrite);
  expect_gradients_near(dq, numeric_gradient(loss, q.data(), q.size()), "dquery");
  expect_gradients_near(dk, numeric_gradient(loss, k.data(), k.size()), "dkeys");
  expect_gradients_near(dv, numeric_gradient(loss, v.data(), v.size()), "dv");

  std::vector<double> acc_v(kWidth, -0.25);
  additive_scores_backward_cpu<double>(q.data(), k.data(), v.data(), w.data(), kQueryLen,
                                       kSourceLen, kBatch, kWidth, nullptr, nullptr,
                                       acc_v.data(), GradMode::accumulate);
  for (int a = 0; a < kWidth; ++a) EXPECT_NEAR(acc_v[a], dv[a] - 0.25, kAccumulateTolerance);
}

TEST(AttentionOpsCpu, MaskedSoftmaxGivesPaddedPositionsWeightZeroEvenForNaNScores) {
  Rng rng(4);
  auto scores = random_vector(kScoreSize, rng, -3, 3);
  for (std::size_t i = 0; i < kScoreSize; ++i)
    if (padded(i)) scores[i] = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> weights(kScoreSize, kGarbage);
  masked_softmax_cpu<double>(scores.data(), kLengths.data(), kQueryLen, kSourceLen, kBatch,
                             weights.data());
  for (int b = 0; b < kBatch; ++b)
    for (int t = 0; t < kQueryLen; ++t) {
      const std::size_t row = (static_cast<std::size_t>(b) * kQueryLen + t) * kSourceLen;
      double denominator = 0;
      for (int s = 0; s < kLengths[b]; ++s) denominator += std::exp(scores[row + s]);
      for (int s = 0; s < kSourceLen; ++s) {
        if (s >= kLengths[b])
          EXPECT_EQ(weights[row + s], 0.0) << "padded b=" << b << " s=" << s;
        else
          EXPECT_NEAR(weights[row + s], std::exp(scores[row + s]) / denominator, 1e-15);
      }
    }
  // A length-1 sequence puts all its weight on its one position.
  EXPECT_EQ(weights[(1 * kQueryLen + 0) * kSourceLen + 0], 1.0);
}

TEST(AttentionOpsCpu, MaskedSoftmaxBackwardMatchesFiniteDifferencesAndIsZeroWhenPadded) {
  Rng rng(5);
  auto scores = random_vector(kScoreSize, rng, -2, 2);
  const auto w = random_vector(kScoreSize, rng);  // nonzero at padded positions too
  std::vector<double> weights(kScoreSize);
  auto loss = [&] {
    masked_softmax_cpu<double>(scores.data(), kLengths.data(), kQueryLen, kSourceLen, kBatch,
                               weights.data());
    return weighted_sum(weights.data(), w);
  };
  loss();
  std::vector<double> ds(kScoreSize, kGarbage);
  masked_softmax_backward_cpu<double>(weights.data(), w.data(), kLengths.data(), kQueryLen,
                                      kSourceLen, kBatch, ds.data());
  const auto numeric = numeric_gradient(loss, scores.data(), scores.size());
  expect_gradients_near(ds, numeric, "dscores");
  for (std::size_t i = 0; i < kScoreSize; ++i)
    if (padded(i)) {
      EXPECT_EQ(ds[i], 0.0) << i;
      EXPECT_EQ(numeric[i], 0.0) << i;
    }
}

TEST(AttentionOpsCpu, ContextBackwardMatchesFiniteDifferences) {
  Rng rng(6);
  auto weights = random_vector(kScoreSize, rng, 0, 1);
  auto values = random_vector(kKeySize, rng);
  const auto w = random_vector(kQuerySize, rng);
  std::vector<double> context(kQuerySize, kGarbage);
  auto loss = [&] {
    attention_context_cpu<double>(weights.data(), values.data(), kQueryLen, kSourceLen, kBatch,
                                  kWidth, context.data());
    return weighted_sum(context.data(), w);
  };
  loss();
  // One value by hand: t = 1, b = 2, d = 0.
  double expected = 0;
  for (int s = 0; s < kSourceLen; ++s)
    expected += weights[(2 * kQueryLen + 1) * kSourceLen + s] * values[(s * kBatch + 2) * kWidth];
  EXPECT_NEAR(context[(1 * kBatch + 2) * kWidth], expected, 1e-14);

  std::vector<double> dweights(kScoreSize, kGarbage), dvalues(kKeySize, kGarbage);
  attention_context_backward_cpu<double>(weights.data(), values.data(), w.data(), kQueryLen,
                                         kSourceLen, kBatch, kWidth, dweights.data(),
                                         dvalues.data(), GradMode::overwrite);
  expect_gradients_near(dweights, numeric_gradient(loss, weights.data(), weights.size()),
                        "dweights");
  expect_gradients_near(dvalues, numeric_gradient(loss, values.data(), values.size()),
                        "dvalues");

  std::vector<double> acc(kKeySize, 2.0);
  attention_context_backward_cpu<double>(weights.data(), values.data(), w.data(), kQueryLen,
                                         kSourceLen, kBatch, kWidth, nullptr, acc.data(),
                                         GradMode::accumulate);
  for (std::size_t i = 0; i < acc.size(); ++i)
    EXPECT_NEAR(acc[i], dvalues[i] + 2.0, kAccumulateTolerance) << i;
}

// scores -> masked softmax -> context, as the model composes them: the padded source positions
// of keys and values receive no gradient at all, and changing them changes nothing.
TEST(AttentionOpsCpu, ComposedAttentionSendsNoGradientToPaddedPositions) {
  Rng rng(7);
  auto q = random_vector(kQuerySize, rng), memory = random_vector(kKeySize, rng);
  const auto w = random_vector(kQuerySize, rng);
  std::vector<double> scores(kScoreSize), weights(kScoreSize), context(kQuerySize);
  auto loss = [&] {
    attention_scores_cpu<double>(q.data(), memory.data(), kQueryLen, kSourceLen, kBatch, kWidth,
                                 scores.data());
    masked_softmax_cpu<double>(scores.data(), kLengths.data(), kQueryLen, kSourceLen, kBatch,
                               weights.data());
    attention_context_cpu<double>(weights.data(), memory.data(), kQueryLen, kSourceLen, kBatch,
                                  kWidth, context.data());
    return weighted_sum(context.data(), w);
  };
  const double before = loss();
  std::vector<double> dweights(kScoreSize), dscores(kScoreSize);
  std::vector<double> dq(kQuerySize), dmemory(kKeySize);
  attention_context_backward_cpu<double>(weights.data(), memory.data(), w.data(), kQueryLen,
                                         kSourceLen, kBatch, kWidth, dweights.data(),
                                         dmemory.data(), GradMode::overwrite);
  masked_softmax_backward_cpu<double>(weights.data(), dweights.data(), kLengths.data(),
                                      kQueryLen, kSourceLen, kBatch, dscores.data());
  attention_scores_backward_cpu<double>(q.data(), memory.data(), dscores.data(), kQueryLen,
                                        kSourceLen, kBatch, kWidth, dq.data(), dmemory.data(),
                                        GradMode::accumulate);
  expect_gradients_near(dq, numeric_gradient(loss, q.data(), q.size()), "dquery");
  expect_gradients_near(dmemory, numeric_gradient(loss, memory.data(), memory.size()),
                        "dmemory");
  int padded_rows = 0;
  for (std::size_t i = 0; i < kKeySize; ++i)
    if (padded_source_row(i)) {
      ++padded_rows;
      EXPECT_EQ(dmemory[i], 0.0) << i;
      memory[i] = 1e3;  // garbage where the encoder would have written zeros
    }
  EXPECT_GT(padded_rows, 0);
  EXPECT_EQ(loss(), before);
}

TEST(AttentionOpsCpu, FloatAgreesWithDouble) {
  Rng rng(8);
  const auto q = random_vector(kQuerySize, rng), k = random_vector(kKeySize, rng);
  const auto v = random_vector(kWidth, rng), g = random_vector(kScoreSize, rng);
  const auto gc = random_vector(kQuerySize, rng);
  std::vector<double> sd(kScoreSize), ad(kScoreSize), wd(kScoreSize), cd(kQuerySize);
  std::vector<double> dsd(kScoreSize), dqd(kQuerySize), dkd(kKeySize), dvd(kWidth);
  attention_scores_cpu<double>(q.data(), k.data(), kQueryLen, kSourceLen, kBatch, kWidth,
                               sd.data());
  additive_scores_cpu<double>(q.data(), k.data(), v.data(), kQueryLen, kSourceLen, kBatch,
                              kWidth, ad.data());
  masked_softmax_cpu<double>(sd.data(), kLengths.data(), kQueryLen, kSourceLen, kBatch,
                             wd.data());
  attention_context_cpu<double>(wd.data(), k.data(), kQueryLen, kSourceLen, kBatch, kWidth,
                                cd.data());
  masked_softmax_backward_cpu<double>(wd.data(), g.data(), kLengths.data(), kQueryLen,
                                      kSourceLen, kBatch, dsd.data());
  additive_scores_backward_cpu<double>(q.data(), k.data(), v.data(), g.data(), kQueryLen,
                                       kSourceLen, kBatch, kWidth, dqd.data(), dkd.data(),
                                       dvd.data(), GradMode::overwrite);

  const auto qf = to_float(q), kf = to_float(k), vf = to_float(v), gf = to_float(g);
  std::vector<float> sf(kScoreSize), af(kScoreSize), wf(kScoreSize), cf(kQuerySize);
  std::vector<float> dsf(kScoreSize), dqf(kQuerySize), dkf(kKeySize), dvf(kWidth);
  attention_scores_cpu<float>(qf.data(), kf.data(), kQueryLen, kSourceLen, kBatch, kWidth,
                              sf.data());
  additive_scores_cpu<float>(qf.data(), kf.data(), vf.data(), kQueryLen, kSourceLen, kBatch,
                             kWidth, af.data());
  masked_softmax_cpu<float>(sf.data(), kLengths.data(), kQueryLen, kSourceLen, kBatch,
                            wf.data());
  attention_context_cpu<float>(wf.data(), kf.data(), kQueryLen, kSourceLen, kBatch, kWidth,
                               cf.data());
  masked_softmax_backward_cpu<float>(wf.data(), gf.data(), kLengths.data(), kQueryLen,
                                     kSourceLen, kBatch, dsf.data());
  additive_scores_backward_cpu<float>(qf.data(), kf.data(), vf.data(), gf.data(), kQueryLen,
                                      kSourceLen, kBatch, kWidth, dqf.data(), dkf.data(),
                                      dvf.data(), GradMode::overwrite);
  expect_close(sf, sd, kFloatVsDoubleTolerance, "dot scores");
  expect_close(af, ad, kFloatVsDoubleTolerance, "additive scores");
  expect_close(wf, wd, kFloatVsDoubleTolerance, "weights");
  expect_close(cf, cd, kFloatVsDoubleTolerance, "context");
  expect_close(dsf, dsd, kFloatVsDoubleTolerance, "dscores");
  expect_close(dqf, dqd, kFloatVsDoubleTolerance, "additive dquery");
  expect_close(dkf, dkd, kFloatVsDoubleTolerance, "additive dkeys");
  expect_close(dvf, dvd, kFloatVsDoubleTolerance, "additive dv");
}

// The backend object forwards to the free functions (no "has no op" default left).
TEST(AttentionOpsCpu, CpuBackendImplementsEveryAttentionOp) {
  auto ops = make_cpu_ops<double>();
  Rng rng(9);
  const auto q = random_vector(kQuerySize, rng), k = random_vector(kKeySize, rng);
  const auto v = random_vector(kWidth, rng);
  Buffer<double> bq(ops->memory(), kQuerySize), bk(ops->memory(), kKeySize),
      bv(ops->memory(), kWidth), scores(ops->memory(), kScoreSize),
      weights(ops->memory(), kScoreSize), context(ops->memory(), kQuerySize),
      dscores(ops->memory(), kScoreSize), dq(ops->memory(), kQuerySize),
      dk(ops->memory(), kKeySize), dv(ops->memory(), kWidth);
  Buffer<std::int32_t> lengths(ops->memory(), kBatch);
  bq.upload(q);
  bk.upload(k);
  bv.upload(v);
  lengths.upload(kLengths);
  ops->additive_scores(bq.data(), bk.data(), bv.data(), kQueryLen, kSourceLen, kBatch, kWidth,
                       scores.data());
  ops->attention_scores(bq.data(), bk.data(), kQueryLen, kSourceLen, kBatch, kWidth,
                        scores.data());
  ops->masked_softmax(scores.data(), lengths.data(), kQueryLen, kSourceLen, kBatch,
                      weights.data());
  ops->attention_context(weights.data(), bk.data(), kQueryLen, kSourceLen, kBatch, kWidth,
                         context.data());
  ops->attention_context_backward(weights.data(), bk.data(), context.data(), kQueryLen,
                                  kSourceLen, kBatch, kWidth, dscores.data(), dk.data(),
                                  GradMode::overwrite);
  ops->masked_softmax_backward(weights.data(), dscores.data(), lengths.data(), kQueryLen,
                               kSourceLen, kBatch, scores.data());
  ops->attention_scores_backward(bq.data(), bk.data(), scores.data(), kQueryLen, kSourceLen,
                                 kBatch, kWidth, dq.data(), dk.data(), GradMode::accumulate);
  ops->additive_scores_backward(bq.data(), bk.data(), bv.data(), scores.data(), kQueryLen,
                                kSourceLen, kBatch, kWidth, dq.data(), dk.data(), dv.data(),
                                GradMode::accumulate);
  std::vector<double> expected(kQuerySize);
  std::vector<double> sd(kScoreSize), wd(kScoreSize);
  attention_scores_cpu<double>(q.data(), k.data(), kQueryLen, kSourceLen, kBatch, kWidth,
                               sd.data());
  masked_softmax_cpu<double>(sd.data(), kLengths.data(), kQueryLen, kSourceLen, kBatch,
                             wd.data());
  attention_context_cpu<double>(wd.data(), k.data(), kQueryLen, kSourceLen, kBatch, kWidth,
                                expected.data());
  const auto got = context.download();
  for (std::size_t i = 0; i < kQuerySize; ++i) EXPECT_EQ(got[i], expected[i]) << i;
  for (double x : dq.download()) EXPECT_TRUE(std::isfinite(x));
}

}  // namespace
}  // namespace s2s::test
