// The CUDA attention, layout and decoding kernels' arithmetic run on the CPU, without a device
// (suites Kernel*): the per-lane phases of the row softmaxes (kernels/row_softmax.h) with 32
// lanes combined as a warp combines them, additive attention's per-score and per-gradient
// bodies (kernels/additive_scores.h, gradients also checked by float64 central differences),
// the layout bodies (kernels/layout.h) launched grid-stride with the launchers' shapes, the
// beam expansion's block selection (kernels/beam_candidates.h) against a full sort, and the
// attention GEMMs' cuBLAS arguments (host/cuda/attention_gemm_plan.h) run by a naive batched
// GEMM. References
// are written here in float64 from the formulas of include/s2s/backend.h. Not labelled gpu: CI
// runs them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "cuda/attention_gemm_plan.h"
#include "kernel_emulation.h"
#include "kernels/additive_scores.h"
#include "kernels/beam_candidates.h"
#include "kernels/elementwise.h"
#include "kernels/launch_shape.h"
#include "kernels/layout.h"
#include "kernels/row_softmax.h"
#include "s2s/backend.h"
#include "s2s/random.h"

namespace s2s::test {
namespace {

// float kernels (expf, tanhf, float rounding of double sums) against float64 formulas on O(1)
// results: a few float roundings.
constexpr double kKernelAtol = 2e-6;
constexpr double kKernelRtol = 2e-5;
// Central differences of the float64 reference forward (step kFiniteStep): truncation error
// O(step^2) on O(1) second derivatives plus float rounding of the kernel's gradient.
constexpr double kFiniteStep = 1e-5;
constexpr double kFiniteTol = 1e-5;
constexpr int kLanes = cuda::kWarpLanes;
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

std::vector<float> random_floats(std::size_t n, Rng& rng, double bound = 1.0) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.uniform(-bound, bound));
  return v;
}

void expect_near_all(const std::vector<float>& got, const std::vector<double>& want,
                     const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int failures = 0;
  for (std::size_t i = 0; i < got.size() && failures < 5; ++i) {
    const double tol = kKernelAtol + kKernelRtol * std::abs(want[i]);
    if (!(std::abs(static_cast<double>(got[i]) - want[i]) <= tol)) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
      ++failures;
    }
  }
}

// ---- a warp's reductions, in the kernels' order of lanes (the order does not change a max,
// and changes a double sum of float terms far below float precision) --------------------------

float warp_max(const float* row, int length) {
  float best = -kInf;
  for (int lane = 0; lane < kLanes; ++lane) {
    const float m = cuda::row_lane_max(row, length, lane, kLanes);
    best = m > best ? m : best;
  }
  return best;
}

double warp_sum_exp(const float* row, int length, float row_max) {
  double sum = 0.0;
  for (int lane = 0; lane < kLanes; ++lane)
    sum += cuda::row_lane_sum_exp(row, length, row_max, lane, kLanes);
  return sum;
}

// masked_softmax's kernel on one row, lane by lane.
void emulate_masked_softmax_row(const float* scores, int length, int width, float* weights) {
  const float row_max = warp_max(scores, length);
  const double sum = warp_sum_exp(scores, length, row_max);
  for (int lane = 0; lane < kLanes; ++lane)
    cuda::masked_softmax_lane_write(scores, length, width, row_max, sum, weights, lane, kLanes);
}

void emulate_masked_softmax_backward_row(const float* weights, const float* dweights, int length,
                                         int width, float* dscores) {
  double dot = 0.0;
  for (int lane = 0; lane < kLanes; ++lane)
    dot += cuda::masked_softmax_lane_dot(weights, dweights, length, lane, kLanes);
  for (int lane = 0; lane < kLanes; ++lane)
    cuda::masked_softmax_backward_lane_write(weights, dweights, length, width, dot, dscores, lane,
                                             kLanes);
}

// Source lengths 1, Ts (both ends) and random ones between.
std::vector<std::int32_t> ragged_lengths(int batch, int source_len, Rng& rng) {
  std::vector<std::int32_t> lengths(batch);
  for (auto& l : lengths) l = 1 + static_cast<std::int32_t>(rng.below(source_len));
  lengths[0] = source_len;
  if (batch > 1) lengths[1] = 1;
  return lengths;
}

struct SoftmaxShape {
  int batch, query_len, source_len;
};
// Ts below, at and above a warp's 32 lanes; odd sizes; one position only.
const SoftmaxShape kSoftmaxShapes[] = {{1, 1, 1}, {3, 5, 7}, {2, 3, 32}, {4, 2, 33}, {3, 4, 201}};

TEST(KernelMaskedSoftmax, RowsMatchTheFormulaWithZeroAtPaddedPositions) {
  Rng rng(1301);
  for (const SoftmaxShape& shape : kSoftmaxShapes) {
    const int B = shape.batch, Tq = shape.query_len, Ts = shape.source_len;
    SCOPED_TRACE("B " + std::to_string(B) + " Tq " + std::to_string(Tq) + " Ts " +
                 std::to_string(Ts));
    const auto lengths = ragged_lengths(B, Ts, rng);
    const std::size_t n = static_cast<std::size_t>(B) * Tq * Ts;
    // Scores of up to +-100: exp without the maximum subtracted would overflow float.
    std::vector<float> scores = random_floats(n, rng, 100.0);
    const std::vector<float> dweights = random_floats(n, rng);
    // Padded positions hold garbage, NaN and inf included: never read.
    for (int b = 0; b < B; ++b)
      for (int q = 0; q < Tq; ++q)
        for (int s = lengths[b]; s < Ts; ++s)
          scores[(static_cast<std::size_t>(b) * Tq + q) * Ts + s] = (s % 2) ? kNaN : kInf;
    std::vector<float> weights(n, 7.0f), dscores(n, 7.0f);
    std::vector<double> want(n, 0.0), dwant(n, 0.0);
    for (int b = 0; b < B; ++b)
      for (int q = 0; q < Tq; ++q) {
        const std::size_t row = (static_cast<std::size_t>(b) * Tq + q) * Ts;
        emulate_masked_softmax_row(&scores[row], lengths[b], Ts, &weights[row]);
        emulate_masked_softmax_backward_row(&weights[row], &dweights[row], lengths[b], Ts,
                                            &dscores[row]);
        double m = -INFINITY, sum = 0.0, dot = 0.0;
        for (int s = 0; s < lengths[b]; ++s) m = std::max(m, static_cast<double>(scores[row + s]));
        for (int s = 0; s < lengths[b]; ++s) sum += std::exp(scores[row + s] - m);
        for (int s = 0; s < lengths[b]; ++s) want[row + s] = std::exp(scores[row + s] - m) / sum;
        // The backward's reference takes the kernel's own weights (its input).
        for (int s = 0; s < lengths[b]; ++s)
          dot += static_cast<double>(weights[row + s]) * dweights[row + s];
        for (int s = 0; s < lengths[b]; ++s)
          dwant[row + s] = static_cast<double>(weights[row + s]) * (dweights[row + s] - dot);
        double total = 0.0;
        for (int s = 0; s < Ts; ++s) total += weights[row + s];
        EXPECT_NEAR(total, 1.0, 1e-5) << "row b " << b << " q " << q;
        for (int s = lengths[b]; s < Ts; ++s) {
          ASSERT_EQ(weights[row + s], 0.0f) << "padded weight b " << b << " s " << s;
          ASSERT_EQ(dscores[row + s], 0.0f) << "padded dscore b " << b << " s " << s;
        }
      }
    expect_near_all(weights, want, "weights");
    expect_near_all(dscores, dwant, "dscores");
  }
}

// A NaN among the real scores makes that row NaN (as the CPU reference), not a silent softmax
// over the others; the other rows are untouched by it.
TEST(KernelMaskedSoftmax, NaNAtARealPositionPropagatesToItsRow) {
  std::vector<float> scores = {0.5f, kNaN, -1.0f, 2.0f, 0.5f, 0.25f, -1.0f, 2.0f};
  std::vector<float> weights(8);
  emulate_masked_softmax_row(&scores[0], 3, 4, &weights[0]);
  emulate_masked_softmax_row(&scores[4], 3, 4, &weights[4]);
  for (int s = 0; s < 3; ++s) EXPECT_TRUE(std::isnan(weights[s])) << s;
  EXPECT_EQ(weights[3], 0.0f);
  for (int s = 4; s < 7; ++s) EXPECT_TRUE(std::isfinite(weights[s]) && weights[s] > 0.0f) << s;
}

TEST(KernelLogSoftmax, RowsMatchTheFormulaAlsoInPlace) {
  Rng rng(1302);
  for (const int V : {1, 7, 32, 33, 1000}) {
    SCOPED_TRACE("V " + std::to_string(V));
    const std::vector<float> logits = random_floats(V, rng, 50.0);
    double m = -INFINITY, sum = 0.0;
    for (float x : logits) m = std::max(m, static_cast<double>(x));
    for (float x : logits) sum += std::exp(x - m);
    std::vector<double> want(V);
    for (int v = 0; v < V; ++v) want[v] = logits[v] - m - std::log(sum);
    std::vector<float> out(V, 7.0f), in_place = logits;
    for (std::vector<float>* target : {&out, &in_place}) {
      const float* row = target == &out ? logits.data() : in_place.data();
      const float row_max = warp_max(row, V);
      const double sum_exp = warp_sum_exp(row, V, row_max);
      for (int lane = 0; lane < kLanes; ++lane)
        cuda::log_softmax_lane_write(row, V, row_max, sum_exp, target->data(), lane, kLanes);
    }
    expect_near_all(out, want, "log_softmax");
    EXPECT_EQ(out, in_place) << "out aliasing logits gives the same values";
  }
}

// ---- additive scores ----------------------------------------------------------------------------

struct AdditiveShape {
  int query_len, source_len, batch, width;
};

// scores[b, q, s] = sum_a v[a] tanh(query[q, b, a] + keys[s, b, a]) in float64.
std::vector<double> additive_reference(const std::vector<double>& query,
                                       const std::vector<double>& keys,
                                       const std::vector<double>& v, const AdditiveShape& s) {
  std::vector<double> scores(static_cast<std::size_t>(s.batch) * s.query_len * s.source_len);
  for (int b = 0; b < s.batch; ++b)
    for (int q = 0; q < s.query_len; ++q)
      for (int k = 0; k < s.source_len; ++k) {
        double sum = 0.0;
        for (int a = 0; a < s.width; ++a)
          sum += v[a] * std::tanh(query[(static_cast<std::size_t>(q) * s.batch + b) * s.width + a] +
                                  keys[(static_cast<std::size_t>(k) * s.batch + b) * s.width + a]);
        scores[(static_cast<std::size_t>(b) * s.query_len + q) * s.source_len + k] = sum;
      }
  return scores;
}

std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

struct AdditiveGradients {
  std::vector<float> dquery, dkeys, dv;
};

// The backward kernels' bodies launched as the launcher launches them, and dv as the column sum
// of the partials (in double, rows in order, as kernels/column_sum.h), accumulated per flag.
AdditiveGradients emulate_additive_backward(const cuda::AdditiveScoresArgs& in,
                                            const std::vector<float>& dscores,
                                            AdditiveGradients start, bool accumulate) {
  const std::size_t nq = static_cast<std::size_t>(in.query_len) * in.batch * in.width;
  const std::size_t nk = static_cast<std::size_t>(in.source_len) * in.batch * in.width;
  std::vector<float> partial(nq, 7.0f);
  cuda::AdditiveScoresBackwardArgs args;
  args.in = in;
  args.dscores = dscores.data();
  args.dquery = start.dquery.data();
  args.dkeys = start.dkeys.data();
  args.dv_partial = partial.data();
  args.accumulate = accumulate;
  emulate_grid_stride(cuda::grid_stride_shape(nq), nq,
                      [&](int idx) { cuda::additive_dquery_unit(args, idx); });
  emulate_grid_stride(cuda::grid_stride_shape(nk), nk,
                      [&](int idx) { cuda::additive_dkeys_unit(args, idx); });
  for (int a = 0; a < in.width; ++a) {
    double sum = 0.0;
    for (int r = 0; r < in.query_len * in.batch; ++r)
      sum += partial[static_cast<std::size_t>(r) * in.width + a];
    start.dv[a] = accumulate ? start.dv[a] + static_cast<float>(sum) : static_cast<float>(sum);
  }
  return start;
}

TEST(KernelAdditiveScores, ForwardMatchesTheFormula) {
  Rng rng(1303);
  for (const AdditiveShape s : {AdditiveShape{1, 1, 1, 1}, AdditiveShape{3, 5, 2, 7},
                                AdditiveShape{2, 9, 3, 33}, AdditiveShape{4, 3, 1, 128}}) {
    SCOPED_TRACE("Tq " + std::to_string(s.query_len) + " Ts " + std::to_string(s.source_len) +
                 " B " + std::to_string(s.batch) + " A " + std::to_string(s.width));
    const auto query =
        random_floats(static_cast<std::size_t>(s.query_len) * s.batch * s.width, rng);
    const auto keys =
        random_floats(static_cast<std::size_t>(s.source_len) * s.batch * s.width, rng);
    const auto v = random_floats(s.width, rng);
    const cuda::AdditiveScoresArgs args{query.data(), keys.data(), v.data(), s.query_len,
                                        s.source_len, s.batch,     s.width};
    const std::size_t n = static_cast<std::size_t>(s.batch) * s.query_len * s.source_len;
    std::vector<float> scores(n);
    // One warp per score: the lanes' parts summed.
    for (std::size_t out = 0; out < n; ++out) {
      double sum = 0.0;
      for (int lane = 0; lane < kLanes; ++lane)
        sum += cuda::additive_score_lane(args, out, lane, kLanes);
      scores[out] = static_cast<float>(sum);
    }
    expect_near_all(scores, additive_reference(widen(query), widen(keys), widen(v), s), "scores");
  }
}

// Every gradient against float64 central differences of the reference forward, for the loss
// sum(dscores * scores); overwrite, and accumulate onto random starting values.
TEST(KernelAdditiveScores, BackwardMatchesCentralDifferencesInBothModes) {
  Rng rng(1304);
  for (const AdditiveShape s :
       {AdditiveShape{1, 1, 1, 1}, AdditiveShape{3, 4, 2, 5}, AdditiveShape{2, 7, 3, 3}}) {
    for (const bool accumulate : {false, true}) {
      SCOPED_TRACE("Tq " + std::to_string(s.query_len) + " Ts " + std::to_string(s.source_len) +
                   " B " + std::to_string(s.batch) + " A " + std::to_string(s.width) +
                   (accumulate ? " accumulate" : " overwrite"));
      const std::size_t nq = static_cast<std::size_t>(s.query_len) * s.batch * s.width;
      const std::size_t nk = static_cast<std::size_t>(s.source_len) * s.batch * s.width;
      const std::size_t ns = static_cast<std::size_t>(s.batch) * s.query_len * s.source_len;
      const auto query = random_floats(nq, rng), keys = random_floats(nk, rng),
                 v = random_floats(s.width, rng), dscores = random_floats(ns, rng);
      AdditiveGradients start{random_floats(nq, rng), random_floats(nk, rng),
                              random_floats(s.width, rng)};
      const AdditiveGradients initial = start;
      const cuda::AdditiveScoresArgs args{query.data(), keys.data(), v.data(), s.query_len,
                                          s.source_len, s.batch,     s.width};
      const AdditiveGradients got = emulate_additive_backward(args, dscores, start, accumulate);

      std::vector<double> q64 = widen(query), k64 = widen(keys), v64 = widen(v);
      const std::vector<double> ds64 = widen(dscores);
      auto loss = [&]() {
        const auto scores = additive_reference(q64, k64, v64, s);
        return std::inner_product(scores.begin(), scores.end(), ds64.begin(), 0.0);
      };
      auto central = [&](std::vector<double>& x, std::size_t i) {
        const double saved = x[i];
        x[i] = saved + kFiniteStep;
        const double up = loss();
        x[i] = saved - kFiniteStep;
        const double down = loss();
        x[i] = saved;
        return (up - down) / (2 * kFiniteStep);
      };
      auto check = [&](std::vector<double>& x, const std::vector<float>& grad,
                       const std::vector<float>& before, const char* what) {
        for (std::size_t i = 0; i < x.size(); ++i) {
          const double want = central(x, i) + (accumulate ? before[i] : 0.0);
          EXPECT_NEAR(grad[i], want, kFiniteTol * std::max(1.0, std::abs(want)))
              << what << "[" << i << "]";
        }
      };
      check(q64, got.dquery, initial.dquery, "dquery");
      check(k64, got.dkeys, initial.dkeys, "dkeys");
      check(v64, got.dv, initial.dv, "dv");
    }
  }
}

// Padded source positions (dscores 0 there, as masked_softmax_backward leaves them) cost nothing
// and pass nothing on: NaN keys at those positions change no gradient, as on the CPU.
TEST(KernelAdditiveScores, PaddedPositionsWithZeroGradientAreSkipped) {
  Rng rng(1312);
  const AdditiveShape s{3, 6, 2, 5};
  const int length = 4;  // positions 4 and 5 of every sequence are padded
  const std::size_t nq = static_cast<std::size_t>(s.query_len) * s.batch * s.width;
  const std::size_t nk = static_cast<std::size_t>(s.source_len) * s.batch * s.width;
  const auto query = random_floats(nq, rng), v = random_floats(s.width, rng);
  auto keys = random_floats(nk, rng),
       dscores = random_floats(static_cast<std::size_t>(s.batch) * s.query_len * s.source_len, rng);
  for (std::size_t i = 0; i < dscores.size(); ++i)
    if (static_cast<int>(i % s.source_len) >= length) dscores[i] = 0.0f;
  const AdditiveGradients start{std::vector<float>(nq), std::vector<float>(nk),
                                std::vector<float>(s.width)};
  const cuda::AdditiveScoresArgs clean{query.data(), keys.data(), v.data(), s.query_len,
                                       s.source_len, s.batch,     s.width};
  const AdditiveGradients want = emulate_additive_backward(clean, dscores, start, false);
  for (std::size_t i = static_cast<std::size_t>(length) * s.batch * s.width; i < nk; ++i)
    keys[i] = kNaN;
  const AdditiveGradients got = emulate_additive_backward(clean, dscores, start, false);
  EXPECT_EQ(got.dquery, want.dquery);
  EXPECT_EQ(got.dv, want.dv);
  for (std::size_t i = 0; i < static_cast<std::size_t>(length) * s.batch * s.width; ++i)
    ASSERT_EQ(got.dkeys[i], want.dkeys[i]) << i;
  for (std::size_t i = static_cast<std::size_t>(length) * s.batch * s.width; i < nk; ++i)
    ASSERT_EQ(got.dkeys[i], 0.0f) << "padded key " << i;
}

// A null dquery still yields the dv partials (the dquery pass runs for dv alone); a null
// dv_partial leaves dquery as it would be.
TEST(KernelAdditiveScores, NullOutputsAreSkippedIndependently) {
  Rng rng(1305);
  const AdditiveShape s{2, 3, 2, 4};
  const std::size_t nq = static_cast<std::size_t>(s.query_len) * s.batch * s.width;
  const std::size_t ns = static_cast<std::size_t>(s.batch) * s.query_len * s.source_len;
  const auto query = random_floats(nq, rng),
             keys = random_floats(static_cast<std::size_t>(s.source_len) * s.batch * s.width, rng),
             v = random_floats(s.width, rng), dscores = random_floats(ns, rng);
  cuda::AdditiveScoresBackwardArgs with_both, partial_only, dquery_only;
  std::vector<float> dq_both(nq), partial_both(nq), partial_alone(nq), dq_alone(nq);
  with_both.in = partial_only.in = dquery_only.in = {
      query.data(), keys.data(), v.data(), s.query_len, s.source_len, s.batch, s.width};
  with_both.dscores = partial_only.dscores = dquery_only.dscores = dscores.data();
  with_both.dquery = dq_both.data();
  with_both.dv_partial = partial_both.data();
  partial_only.dv_partial = partial_alone.data();
  dquery_only.dquery = dq_alone.data();
  for (std::size_t i = 0; i < nq; ++i) {
    cuda::additive_dquery_unit(with_both, i);
    cuda::additive_dquery_unit(partial_only, i);
    cuda::additive_dquery_unit(dquery_only, i);
  }
  EXPECT_EQ(partial_alone, partial_both);
  EXPECT_EQ(dq_alone, dq_both);
}

// ---- elementwise and layout ---------------------------------------------------------------------

TEST(KernelElementwise, TanhAndItsBackwardMatchTheFormulas) {
  Rng rng(1306);
  const auto x = random_floats(101, rng, 4.0), dy = random_floats(101, rng);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float y = cuda::tanh_forward_value(x[i]);
    EXPECT_NEAR(y, std::tanh(static_cast<double>(x[i])), kKernelAtol);
    EXPECT_NEAR(cuda::tanh_backward_value(y, dy[i]), dy[i] * (1.0 - static_cast<double>(y) * y),
                kKernelAtol);
  }
}

TEST(KernelLayout, ConcatAndSplitAreInverseInBothModesWithNullTargets) {
  Rng rng(1307);
  for (const int rows : {1, 7, 300})
    for (const int aw : {1, 33})
      for (const int bw : {1, 5}) {
        SCOPED_TRACE("rows " + std::to_string(rows) + " a " + std::to_string(aw) + " b " +
                     std::to_string(bw));
        const std::size_t w = aw + bw, n = rows * w;
        const auto a = random_floats(static_cast<std::size_t>(rows) * aw, rng),
                   b = random_floats(static_cast<std::size_t>(rows) * bw, rng);
        std::vector<float> out(n, 7.0f);
        const cuda::LaunchShape shape = cuda::grid_stride_shape(n);
        EXPECT_EQ(emulate_grid_stride(shape, n,
                                      [&](int i) {
                                        cuda::concat_columns_unit(a.data(), b.data(), aw, bw,
                                                                  out.data(), i);
                                      }),
                  n);
        for (int r = 0; r < rows; ++r) {
          for (int c = 0; c < aw; ++c) ASSERT_EQ(out[r * w + c], a[r * aw + c]);
          for (int c = 0; c < bw; ++c) ASSERT_EQ(out[r * w + aw + c], b[r * bw + c]);
        }
        // split: overwrite gives back a and b; accumulate adds; a null target is skipped.
        std::vector<float> da(a.size(), 7.0f), db(b.size(), 7.0f);
        emulate_grid_stride(shape, n, [&](int i) {
          cuda::split_columns_unit(out.data(), aw, bw, da.data(), db.data(), false, i);
        });
        EXPECT_EQ(da, a);
        EXPECT_EQ(db, b);
        emulate_grid_stride(shape, n, [&](int i) {
          cuda::split_columns_unit(out.data(), aw, bw, da.data(), nullptr, true, i);
        });
        for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(da[i], a[i] + a[i]);
        EXPECT_EQ(db, b) << "db untouched when null is passed for it";
      }
}

TEST(KernelLayout, ReverseSequencesReversesWithinEachLengthAndIsItsOwnInverse) {
  Rng rng(1308);
  for (const int T : {1, 5, 37})
    for (const int B : {1, 4})
      for (const int X : {1, 3, 33}) {
        SCOPED_TRACE("T " + std::to_string(T) + " B " + std::to_string(B) + " X " +
                     std::to_string(X));
        std::vector<std::int32_t> lengths(B);
        for (auto& l : lengths) l = 1 + static_cast<std::int32_t>(rng.below(T));
        lengths[0] = T;
        const std::size_t n = static_cast<std::size_t>(T) * B * X;
        auto x = random_floats(n, rng);
        for (int t = 0; t < T; ++t)  // zeros at padded steps, as the model keeps them
          for (int b = 0; b < B; ++b)
            if (t >= lengths[b])
              for (int c = 0; c < X; ++c) x[(static_cast<std::size_t>(t) * B + b) * X + c] = 0.0f;
        std::vector<float> out(n, 7.0f), back(n, 7.0f);
        const cuda::LaunchShape shape = cuda::grid_stride_shape(n);
        emulate_grid_stride(shape, n, [&](int i) {
          cuda::reverse_sequences_unit(x.data(), lengths.data(), B, X, out.data(), i);
        });
        for (int t = 0; t < T; ++t)
          for (int b = 0; b < B; ++b)
            for (int c = 0; c < X; ++c) {
              const float want =
                  t < lengths[b]
                      ? x[((static_cast<std::size_t>(lengths[b]) - 1 - t) * B + b) * X + c]
                      : 0.0f;
              ASSERT_EQ(out[(static_cast<std::size_t>(t) * B + b) * X + c], want)
                  << "t " << t << " b " << b << " c " << c;
            }
        emulate_grid_stride(shape, n, [&](int i) {
          cuda::reverse_sequences_unit(out.data(), lengths.data(), B, X, back.data(), i);
        });
        EXPECT_EQ(back, x);
      }
}

TEST(KernelLayout, GatherRowsPicksRowsOfEveryGroupWithRepeats) {
  Rng rng(1309);
  for (const int groups : {1, 3})
    for (const int rows_in : {1, 6})
      for (const int rows_out : {1, 9})
        for (const int W : {1, 33}) {
          const std::size_t n = static_cast<std::size_t>(groups) * rows_out * W;
          const auto x = random_floats(static_cast<std::size_t>(groups) * rows_in * W, rng);
          std::vector<std::int32_t> index(rows_out);
          for (auto& i : index) i = static_cast<std::int32_t>(rng.below(rows_in));
          std::vector<float> out(n, 7.0f);
          EXPECT_EQ(emulate_grid_stride(cuda::grid_stride_shape(n), n,
                                        [&](int i) {
                                          cuda::gather_rows_unit(x.data(), index.data(), rows_in,
                                                                 rows_out, W, out.data(), i);
                                        }),
                    n);
          for (int g = 0; g < groups; ++g)
            for (int r = 0; r < rows_out; ++r)
              for (int c = 0; c < W; ++c)
                ASSERT_EQ(out[(static_cast<std::size_t>(g) * rows_out + r) * W + c],
                          x[(static_cast<std::size_t>(g) * rows_in + index[r]) * W + c]);
        }
}

// ---- beam candidates
// ------------------------------------------------------------------------------

// The kernel's block on one source: kBeamThreads threads, `count` rounds, each round's thread
// picks combined under the ranking (any order gives the same pick: it is a total order).
void emulate_beam_block(const cuda::BeamCandidatesArgs& a, int b, float* scores_out,
                        std::int32_t* ids_out) {
  cuda::BeamPick previous{0.0f, -1};
  for (int round = 0; round < a.count; ++round) {
    cuda::BeamPick best{0.0f, -1};
    for (int thread = cuda::kBeamThreads - 1; thread >= 0; --thread) {
      const cuda::BeamPick pick = cuda::beam_best_after(a, b, thread, cuda::kBeamThreads, previous);
      if (cuda::beam_ranks_before(pick.score, pick.id, best.score, best.id)) best = pick;
    }
    scores_out[static_cast<std::size_t>(b) * a.count + round] = best.score;
    ids_out[static_cast<std::size_t>(b) * a.count + round] = best.id;
    previous = best;
  }
}

struct BeamShape {
  int batch, beams, vocab, count;
};

TEST(KernelBeamCandidates, BlockSelectionEqualsAFullSortWithTiesInfAndNaN) {
  Rng rng(1310);
  for (const BeamShape s :
       {BeamShape{1, 1, 1, 1}, BeamShape{2, 1, 7, 7}, BeamShape{3, 4, 5, 8},
        BeamShape{2, 3, 300, 6}, BeamShape{1, 5, 1000, 64}, BeamShape{2, 2, 130, 260}}) {
    SCOPED_TRACE("B " + std::to_string(s.batch) + " K " + std::to_string(s.beams) + " V " +
                 std::to_string(s.vocab) + " count " + std::to_string(s.count));
    const std::size_t rows = static_cast<std::size_t>(s.batch) * s.beams;
    // Log-probabilities from a few values (many exact ties), a few NaN; beam scores with -inf
    // (finished beams) and ties.
    std::vector<float> log_probs(rows * s.vocab), beam_scores(rows);
    for (float& x : log_probs) x = -0.25f * static_cast<float>(rng.below(6));
    for (std::size_t i = 0; i < log_probs.size(); i += 97) log_probs[i] = kNaN;
    for (float& x : beam_scores)
      x = rng.below(4) == 0 ? -kInf : -0.5f * static_cast<float>(rng.below(3));
    const cuda::BeamCandidatesArgs args{
        log_probs.data(), beam_scores.data(), s.batch, s.beams, s.vocab, s.count};
    std::vector<float> scores(static_cast<std::size_t>(s.batch) * s.count, 7.0f);
    std::vector<std::int32_t> ids(scores.size(), -7);
    for (int b = 0; b < s.batch; ++b) emulate_beam_block(args, b, scores.data(), ids.data());

    for (int b = 0; b < s.batch; ++b) {
      // The reference: every candidate scored in float, sorted by (score descending, NaN last,
      // id ascending).
      struct Candidate {
        float score;
        int id;
      };
      std::vector<Candidate> all;
      for (int k = 0; k < s.beams; ++k)
        for (int v = 0; v < s.vocab; ++v) {
          const std::size_t row = static_cast<std::size_t>(b) * s.beams + k;
          all.push_back({beam_scores[row] + log_probs[row * s.vocab + v], k * s.vocab + v});
        }
      std::sort(all.begin(), all.end(), [](const Candidate& x, const Candidate& y) {
        const bool xn = std::isnan(x.score), yn = std::isnan(y.score);
        if (xn != yn) return yn;
        if (!xn && x.score != y.score) return x.score > y.score;
        return x.id < y.id;
      });
      for (int j = 0; j < s.count; ++j) {
        const std::size_t out = static_cast<std::size_t>(b) * s.count + j;
        ASSERT_EQ(ids[out], all[j].id) << "source " << b << " rank " << j;
        if (std::isnan(all[j].score))
          EXPECT_TRUE(std::isnan(scores[out]));
        else
          EXPECT_EQ(scores[out], all[j].score) << "source " << b << " rank " << j;
      }
    }
  }
}

TEST(KernelBeamCandidates, RankingIsATotalOrder) {
  const float values[] = {-kInf, -1.0f, 0.0f, 2.5f, kInf, kNaN};
  for (float a : values)
    for (float b : values)
      for (int ia : {0, 1, 5})
        for (int ib : {0, 1, 5}) {
          const bool ab = cuda::beam_ranks_before(a, ia, b, ib);
          const bool ba = cuda::beam_ranks_before(b, ib, a, ia);
          const bool same = ia == ib && (a == b || (std::isnan(a) && std::isnan(b)));
          EXPECT_EQ(ab || ba, !same) << a << "#" << ia << " vs " << b << "#" << ib;
          EXPECT_FALSE(ab && ba);
        }
  EXPECT_TRUE(cuda::beam_ranks_before(-kInf, 3, 0.0f, -1)) << "a candidate beats none";
  EXPECT_FALSE(cuda::beam_ranks_before(0.0f, -1, -kInf, 3));
}

// ---- attention GEMM plans ---------------------------------------------------------------------

// What cuBLAS would do with a plan, row-major and naive: C_i = op(A_i) op(B_i) + beta C_i (C not
// read when beta is 0). Each operand's extent (last element the plan reaches) must lie inside
// its array and its leading dimension must cover its row, as cuBLAS requires.
struct Operand {
  const float* base;
  std::size_t size;
};
void run_plan(const cuda::BatchedGemm& g, Operand a, Operand b, float* c_base, std::size_t c_size) {
  const int a_rows = g.trans_a ? g.k : g.m, a_cols = g.trans_a ? g.m : g.k;
  const int b_rows = g.trans_b ? g.n : g.k, b_cols = g.trans_b ? g.k : g.n;
  ASSERT_GE(g.lda, a_cols);
  ASSERT_GE(g.ldb, b_cols);
  ASSERT_GE(g.ldc, g.n);
  auto extent = [&](long long stride, int rows, int ld, int cols) {
    return static_cast<std::size_t>((g.count - 1) * stride + static_cast<long long>(rows - 1) * ld +
                                    cols);
  };
  ASSERT_LE(g.a - a.base + extent(g.stride_a, a_rows, g.lda, a_cols),
            static_cast<long long>(a.size));
  ASSERT_LE(g.b - b.base + extent(g.stride_b, b_rows, g.ldb, b_cols),
            static_cast<long long>(b.size));
  ASSERT_LE(g.c - c_base + extent(g.stride_c, g.m, g.ldc, g.n), static_cast<long long>(c_size));
  ASSERT_TRUE(g.beta == 0.0f || g.beta == 1.0f);
  for (int i = 0; i < g.count; ++i) {
    const float* ai = g.a + i * g.stride_a;
    const float* bi = g.b + i * g.stride_b;
    float* ci = g.c + i * g.stride_c;
    for (int r = 0; r < g.m; ++r)
      for (int col = 0; col < g.n; ++col) {
        double sum = 0.0;
        for (int x = 0; x < g.k; ++x) {
          const float av = g.trans_a ? ai[static_cast<std::size_t>(x) * g.lda + r]
                                     : ai[static_cast<std::size_t>(r) * g.lda + x];
          const float bv = g.trans_b ? bi[static_cast<std::size_t>(col) * g.ldb + x]
                                     : bi[static_cast<std::size_t>(x) * g.ldb + col];
          sum += static_cast<double>(av) * bv;
        }
        float& out = ci[static_cast<std::size_t>(r) * g.ldc + col];
        out = static_cast<float>(sum) + (g.beta == 0.0f ? 0.0f : out);
      }
  }
}

// Every attention GEMM plan against the formulas of include/s2s/backend.h, written with
// explicit indices: scores[b, q, s] = sum_d query[q, b, d] keys[s, b, d] and
// context[q, b, d] = sum_s weights[b, q, s] values[s, b, d], their gradients, both modes.
TEST(KernelAttentionGemmPlan, EveryPlanComputesItsFormulaInBothModes) {
  Rng rng(1311);
  for (const cuda::AttentionDims d :
       {cuda::AttentionDims{1, 1, 1, 1}, cuda::AttentionDims{3, 5, 2, 7},
        cuda::AttentionDims{4, 2, 3, 33}, cuda::AttentionDims{7, 9, 1, 4}})
    for (const GradMode mode : {GradMode::overwrite, GradMode::accumulate}) {
      const int Tq = d.query_len, Ts = d.source_len, B = d.batch, D = d.width;
      const bool acc = mode == GradMode::accumulate;
      SCOPED_TRACE("Tq " + std::to_string(Tq) + " Ts " + std::to_string(Ts) + " B " +
                   std::to_string(B) + " D " + std::to_string(D) +
                   (acc ? " accumulate" : " overwrite"));
      const std::size_t nq = static_cast<std::size_t>(Tq) * B * D,
                        ns = static_cast<std::size_t>(Ts) * B * D,
                        ne = static_cast<std::size_t>(B) * Tq * Ts;
      const auto query = random_floats(nq, rng), keys = random_floats(ns, rng),
                 dscores = random_floats(ne, rng), weights = random_floats(ne, rng),
                 dcontext = random_floats(nq, rng), dq0 = random_floats(nq, rng),
                 dk0 = random_floats(ns, rng);
      auto qi = [&](int q, int b, int x) { return (static_cast<std::size_t>(q) * B + b) * D + x; };
      auto si = [&](int s, int b, int x) { return (static_cast<std::size_t>(s) * B + b) * D + x; };
      auto ei = [&](int b, int q, int s) {
        return (static_cast<std::size_t>(b) * Tq + q) * Ts + s;
      };
      std::vector<double> scores(ne, 0), dq(nq, 0), dk(ns, 0), context(nq, 0), dw(ne, 0), dv(ns, 0);
      for (int b = 0; b < B; ++b)
        for (int q = 0; q < Tq; ++q)
          for (int s = 0; s < Ts; ++s)
            for (int x = 0; x < D; ++x) {
              scores[ei(b, q, s)] += static_cast<double>(query[qi(q, b, x)]) * keys[si(s, b, x)];
              dq[qi(q, b, x)] += static_cast<double>(dscores[ei(b, q, s)]) * keys[si(s, b, x)];
              dk[si(s, b, x)] += static_cast<double>(dscores[ei(b, q, s)]) * query[qi(q, b, x)];
              context[qi(q, b, x)] += static_cast<double>(weights[ei(b, q, s)]) * keys[si(s, b, x)];
              dw[ei(b, q, s)] += static_cast<double>(dcontext[qi(q, b, x)]) * keys[si(s, b, x)];
              dv[si(s, b, x)] += static_cast<double>(weights[ei(b, q, s)]) * dcontext[qi(q, b, x)];
            }
      if (acc) {
        for (std::size_t i = 0; i < nq; ++i) dq[i] += dq0[i];
        for (std::size_t i = 0; i < ns; ++i) dk[i] += dk0[i], dv[i] += dk0[i];
      }
      // Outputs start at their accumulate values, or at NaN when overwritten (never read).
      const float poison = std::numeric_limits<float>::quiet_NaN();
      std::vector<float> g_scores(ne, poison), g_context(nq, poison), g_dw(ne, poison);
      std::vector<float> g_dq = acc ? dq0 : std::vector<float>(nq, poison);
      std::vector<float> g_dk = acc ? dk0 : std::vector<float>(ns, poison), g_dv = g_dk;
      const Operand q_op{query.data(), nq}, k_op{keys.data(), ns}, e_op{dscores.data(), ne},
          w_op{weights.data(), ne}, c_op{dcontext.data(), nq};
      run_plan(cuda::scores_gemm(d, query.data(), keys.data(), g_scores.data()), q_op, k_op,
               g_scores.data(), ne);
      run_plan(cuda::scores_dquery_gemm(d, dscores.data(), keys.data(), g_dq.data(), mode), e_op,
               k_op, g_dq.data(), nq);
      run_plan(cuda::scores_dkeys_gemm(d, dscores.data(), query.data(), g_dk.data(), mode), e_op,
               q_op, g_dk.data(), ns);
      // The context's values are the keys here (as the model's M is both).
      run_plan(cuda::context_gemm(d, weights.data(), keys.data(), g_context.data()), w_op, k_op,
               g_context.data(), nq);
      run_plan(cuda::context_dweights_gemm(d, dcontext.data(), keys.data(), g_dw.data()), c_op,
               k_op, g_dw.data(), ne);
      run_plan(cuda::context_dvalues_gemm(d, weights.data(), dcontext.data(), g_dv.data(), mode),
               w_op, c_op, g_dv.data(), ns);
      expect_near_all(g_scores, scores, "scores");
      expect_near_all(g_dq, dq, "dquery");
      expect_near_all(g_dk, dk, "dkeys");
      expect_near_all(g_context, context, "context");
      expect_near_all(g_dw, dw, "dweights");
      expect_near_all(g_dv, dv, "dvalues");
    }
}

// ---- launch shapes -----------------------------------------------------------------------------

TEST(KernelLaunchShape, WarpRowsAndBeamShapesCoverTheirWorkWithinLimits) {
  for (const std::size_t rows :
       {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{3232}, std::size_t{650000}}) {
    const cuda::LaunchShape s = cuda::warp_rows_shape(rows);
    EXPECT_EQ(s.threads_per_block(),
              static_cast<unsigned>(cuda::kWarpLanes * cuda::kWarpRowsPerBlock));
    EXPECT_LE(s.threads_per_block(), cuda::kMaxThreadsPerBlock);
    EXPECT_GE(s.blocks() * cuda::kWarpRowsPerBlock, rows) << "a warp for every row";
    EXPECT_LT((s.blocks() - 1) * cuda::kWarpRowsPerBlock, rows) << "no block without a row";
  }
  for (const int batch : {1, 64, 100000}) {
    const cuda::LaunchShape s = cuda::beam_candidates_shape(batch);
    EXPECT_EQ(s.threads_per_block(), static_cast<unsigned>(cuda::kBeamThreads));
    EXPECT_GE(s.grid_x, 1u);
    EXPECT_LE(s.grid_x, cuda::kMaxBlocks);
    EXPECT_EQ(s.grid_x, std::min<std::size_t>(batch, cuda::kMaxBlocks));
  }
}

}  // namespace
}  // namespace s2s::test
