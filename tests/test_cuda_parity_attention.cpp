// CUDA backend against the CPU reference for the attention, layout and decoding ops of
// include/s2s/backend.h (ctest label `gpu`): fresh random inputs at several shapes with odd
// sizes and a pq-like one, ragged source lengths, every gradient in both GradModes and with
// null outputs, NaN at padded positions, TF32 reaching the attention GEMMs, bit-identical
// repeated runs, the beam expansion's limit. Skipped (never passed) without a CUDA build or a
// device.
//
// The reference is the CPU backend through its Ops interface (make_cpu_ops: host pointers are
// its memory): float64 for the ops with rounding (a tolerance then measures the GPU's float32
// error), float32 for the exact ones (copies, gathers, products, the beam ranking), compared
// for equality. Seeds come from std::random_device and are printed with every failure;
// S2S_TEST_SEED=<n> repeats a run. S2S_PARITY_STAND_IN=cpu checks the file itself on the CPU
// (below).
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cuda_parity_support.h"
#include "expect_error.h"
#include "kernels/launch_shape.h"
#include "s2s/backend.h"
#include "s2s/buffer.h"
#include "s2s/error.h"
#include "s2s/random.h"

namespace s2s {
namespace {

// One strided batched GEMM per op over up to K = 257 products of U(-1, 1) values (as linear's).
constexpr Tolerance kAttentionGemmTol{1e-5, 1e-4};
// TF32 GEMMs (10-bit mantissa inputs) over K = 1024 products of U(-1, 1) values.
constexpr Tolerance kTf32GemmTol{5e-2, 1e-2};
// Softmaxes: expf in float, sums in double, one rounding to float.
constexpr Tolerance kSoftmaxTol{1e-6, 1e-5};
// Additive scores: up to 257 (forward, over A) or 201 (backward, over Ts) float tanhf terms
// summed in double.
constexpr Tolerance kAdditiveTol{2e-5, 2e-4};
// tanh and its derivative, value by value (tanhf within a few ulp).
constexpr Tolerance kElementwiseTol{1e-6, 1e-6};

constexpr GradMode kOver = GradMode::overwrite;
constexpr GradMode kAcc = GradMode::accumulate;

const char* mode_name(GradMode mode) { return mode == kAcc ? " accumulate" : " overwrite"; }

// Random values that float represents exactly, so the float64 reference and the GPU start from
// the same inputs and a tolerance measures only the GPU's arithmetic.
std::vector<double> exact_uniform(std::size_t n, Rng& rng, double low = -1.0, double high = 1.0) {
  return to_double(to_float(uniform(n, rng, low, high)));
}

template <typename T>
T* or_null(std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}

// S2S_PARITY_STAND_IN=cpu puts the CPU float backend in the GPU's place: a check of this file
// itself (its buffers, null arguments and tolerances; the CPU's float32 must pass them) where no
// GPU is at hand. The tests that need the CUDA backend itself then skip.
bool cpu_stand_in() {
  const char* value = std::getenv("S2S_PARITY_STAND_IN");
  return value != nullptr && std::string(value) == "cpu";
}

class CudaAttentionParity : public CudaParity {
 protected:
  void SetUp() override {
    if (cpu_stand_in()) {
      gpu_ = make_cpu_ops<float>();
      seed_ = fresh_seed();
    } else {
      CudaParity::SetUp();
      if (IsSkipped()) return;
    }
    cpu64_ = make_cpu_ops<double>();
    cpu32_ = make_cpu_ops<float>();
  }
  std::unique_ptr<Ops<double>> cpu64_;
  std::unique_ptr<Ops<float>> cpu32_;
};

// (Tq, Ts, B, D): one of each; odd sizes below and above a warp; D above 256; a pq-like shape.
struct AttentionShape {
  int query_len, source_len, batch, width;
};
const AttentionShape kAttentionShapes[] = {
    {1, 1, 1, 1}, {3, 5, 2, 7}, {7, 33, 5, 31}, {17, 9, 4, 257}, {101, 201, 3, 128}};

std::string describe(const AttentionShape& s) {
  return "Tq " + std::to_string(s.query_len) + " Ts " + std::to_string(s.source_len) + " B " +
         std::to_string(s.batch) + " D " + std::to_string(s.width);
}

std::size_t query_size(const AttentionShape& s) {
  return static_cast<std::size_t>(s.query_len) * s.batch * s.width;
}
std::size_t source_size(const AttentionShape& s) {
  return static_cast<std::size_t>(s.source_len) * s.batch * s.width;
}
std::size_t score_size(const AttentionShape& s) {
  return static_cast<std::size_t>(s.batch) * s.query_len * s.source_len;
}

// ---- attention GEMMs
// ------------------------------------------------------------------------------

TEST_F(CudaAttentionParity, AttentionScoresMatchTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  for (const AttentionShape& s : kAttentionShapes)
    for (const GradMode mode : {kOver, kAcc})
      for (const bool want_dkeys : {true, false}) {
        SCOPED_TRACE(describe(s) + mode_name(mode) + (want_dkeys ? "" : " dkeys null"));
        const auto query = exact_uniform(query_size(s), rng),
                   keys = exact_uniform(source_size(s), rng),
                   dscores = exact_uniform(score_size(s), rng);
        const auto dq0 = mode == kAcc ? exact_uniform(query_size(s), rng)
                                      : std::vector<double>(query_size(s), 7.0);
        const auto dk0 = mode == kAcc ? exact_uniform(source_size(s), rng)
                                      : std::vector<double>(source_size(s), 7.0);
        std::vector<double> scores(score_size(s)), dq = dq0,
                                                   dk = want_dkeys ? dk0 : std::vector<double>();
        cpu64_->attention_scores(query.data(), keys.data(), s.query_len, s.source_len, s.batch,
                                 s.width, scores.data());
        cpu64_->attention_scores_backward(query.data(), keys.data(), dscores.data(), s.query_len,
                                          s.source_len, s.batch, s.width, dq.data(), or_null(dk),
                                          mode);

        Buffer<float> d_query = upload_float(query), d_keys = upload_float(keys),
                      d_dscores = upload_float(dscores), d_scores(device(), scores.size()),
                      d_dq = upload_float(dq0), d_dk = upload_float(dk0);
        gpu_->attention_scores(d_query.data(), d_keys.data(), s.query_len, s.source_len, s.batch,
                               s.width, d_scores.data());
        gpu_->attention_scores_backward(d_query.data(), d_keys.data(), d_dscores.data(),
                                        s.query_len, s.source_len, s.batch, s.width, d_dq.data(),
                                        want_dkeys ? d_dk.data() : nullptr, mode);
        expect_close(to_double(d_scores.download()), scores, kAttentionGemmTol, "scores");
        expect_close(to_double(d_dq.download()), dq, kAttentionGemmTol, "dquery");
        if (want_dkeys)
          expect_close(to_double(d_dk.download()), dk, kAttentionGemmTol, "dkeys");
        else
          EXPECT_TRUE(bitwise_equal(d_dk.download(), to_float(dk0))) << "dkeys null: untouched";
      }
}

TEST_F(CudaAttentionParity, AttentionContextMatchesTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  for (const AttentionShape& s : kAttentionShapes)
    for (const GradMode mode : {kOver, kAcc})
      for (const bool want_dweights : {true, false}) {
        SCOPED_TRACE(describe(s) + mode_name(mode) + (want_dweights ? "" : " dweights null"));
        const auto weights = exact_uniform(score_size(s), rng, 0.0, 1.0),
                   values = exact_uniform(source_size(s), rng),
                   dcontext = exact_uniform(query_size(s), rng);
        const auto dv0 = mode == kAcc ? exact_uniform(source_size(s), rng)
                                      : std::vector<double>(source_size(s), 7.0);
        std::vector<double> context(query_size(s)), dweights(want_dweights ? score_size(s) : 0),
            dvalues = dv0;
        cpu64_->attention_context(weights.data(), values.data(), s.query_len, s.source_len, s.batch,
                                  s.width, context.data());
        cpu64_->attention_context_backward(weights.data(), values.data(), dcontext.data(),
                                           s.query_len, s.source_len, s.batch, s.width,
                                           or_null(dweights), dvalues.data(), mode);

        Buffer<float> d_weights = upload_float(weights), d_values = upload_float(values),
                      d_dcontext = upload_float(dcontext), d_context(device(), context.size()),
                      d_dweights = upload_float(std::vector<double>(dweights.size(), 7.0)),
                      d_dvalues = upload_float(dv0);
        gpu_->attention_context(d_weights.data(), d_values.data(), s.query_len, s.source_len,
                                s.batch, s.width, d_context.data());
        gpu_->attention_context_backward(d_weights.data(), d_values.data(), d_dcontext.data(),
                                         s.query_len, s.source_len, s.batch, s.width,
                                         data_or_null(d_dweights), d_dvalues.data(), mode);
        expect_close(to_double(d_context.download()), context, kAttentionGemmTol, "context");
        expect_close(to_double(d_dweights.download()), dweights, kAttentionGemmTol, "dweights");
        expect_close(to_double(d_dvalues.download()), dvalues, kAttentionGemmTol, "dvalues");
      }
}

// Precision::tf32 reaches the attention GEMMs as it reaches linear's: a large product is close
// to the float64 reference at TF32's tolerance and differs from the exact float32 one.
TEST_F(CudaAttentionParity, Tf32PrecisionReachesTheAttentionGemms) {
  if (cpu_stand_in()) GTEST_SKIP() << "TF32 is the CUDA backend's";
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  const AttentionShape s{256, 256, 2, 1024};
  const auto query = exact_uniform(query_size(s), rng), keys = exact_uniform(source_size(s), rng);
  std::vector<double> scores(score_size(s));
  cpu64_->attention_scores(query.data(), keys.data(), s.query_len, s.source_len, s.batch, s.width,
                           scores.data());
  auto run = [&](Ops<float>& ops) {
    Buffer<float> d_query(ops.memory(), query.size()), d_keys(ops.memory(), keys.size()),
        d_scores(ops.memory(), scores.size());
    d_query.upload(to_float(query));
    d_keys.upload(to_float(keys));
    ops.attention_scores(d_query.data(), d_keys.data(), s.query_len, s.source_len, s.batch, s.width,
                         d_scores.data());
    return d_scores.download();
  };
  auto tf32 = make_cuda_ops(0, Precision::tf32);
  const std::vector<float> fast = run(*tf32), exact = run(*gpu_);
  expect_close(to_double(fast), scores, kTf32GemmTol, "tf32 scores");
  expect_close(to_double(exact), scores, kAttentionGemmTol, "fp32 scores");
  EXPECT_FALSE(bitwise_equal(fast, exact)) << "tf32 gave exactly the float32 results";
}

// ---- masked softmax and additive scores
// ----------------------------------------------------------

TEST_F(CudaAttentionParity, MaskedSoftmaxMatchesTheCpuReferenceWithNaNAtPaddedPositions) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  for (const AttentionShape& s : kAttentionShapes) {
    SCOPED_TRACE(describe(s));
    const auto lengths = random_lengths(s.batch, s.source_len, rng);
    auto scores = exact_uniform(score_size(s), rng, -30.0, 30.0);
    for (int b = 0; b < s.batch; ++b)
      for (int q = 0; q < s.query_len; ++q)
        for (int k = lengths[b]; k < s.source_len; ++k)
          scores[(static_cast<std::size_t>(b) * s.query_len + q) * s.source_len + k] =
              std::numeric_limits<double>::quiet_NaN();
    const auto dweights = exact_uniform(score_size(s), rng);
    std::vector<double> weights(score_size(s)), dscores(score_size(s));
    cpu64_->masked_softmax(scores.data(), lengths.data(), s.query_len, s.source_len, s.batch,
                           weights.data());
    // The backward reads the GPU's own weights on both sides, so it is checked on its own.
    Buffer<float> d_scores = upload_float(scores), d_weights(device(), weights.size()),
                  d_dweights = upload_float(dweights), d_dscores(device(), dscores.size());
    Buffer<std::int32_t> d_lengths = upload(lengths);
    gpu_->masked_softmax(d_scores.data(), d_lengths.data(), s.query_len, s.source_len, s.batch,
                         d_weights.data());
    const std::vector<double> gpu_weights = to_double(d_weights.download());
    cpu64_->masked_softmax_backward(gpu_weights.data(), dweights.data(), lengths.data(),
                                    s.query_len, s.source_len, s.batch, dscores.data());
    gpu_->masked_softmax_backward(d_weights.data(), d_dweights.data(), d_lengths.data(),
                                  s.query_len, s.source_len, s.batch, d_dscores.data());
    expect_close(gpu_weights, weights, kSoftmaxTol, "weights");
    expect_close(to_double(d_dscores.download()), dscores, kSoftmaxTol, "dscores");
    for (std::size_t i = 0; i < gpu_weights.size(); ++i)
      ASSERT_FALSE(std::isnan(gpu_weights[i])) << "NaN at a padded score leaked to weight " << i;
  }
}

TEST_F(CudaAttentionParity, AdditiveScoresMatchTheCpuReferenceInBothModes) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  for (const AttentionShape& s : kAttentionShapes)
    for (const GradMode mode : {kOver, kAcc})
      for (const int nulls : {0, 1, 2}) {  // 1: dquery null, 2: dkeys and dv null
        SCOPED_TRACE(describe(s) + mode_name(mode) + " nulls " + std::to_string(nulls));
        const auto query = exact_uniform(query_size(s), rng),
                   keys = exact_uniform(source_size(s), rng), v = exact_uniform(s.width, rng),
                   dscores = exact_uniform(score_size(s), rng);
        auto start = [&](std::size_t n) {
          return mode == kAcc ? exact_uniform(n, rng) : std::vector<double>(n, 7.0);
        };
        const auto dq0 = start(query_size(s)), dk0 = start(source_size(s)), dv0 = start(s.width);
        // The outputs wanted, at their starting values (empty: null); the reference updates its
        // copies, the GPU starts from these.
        const std::vector<double> dq_start = nulls == 1 ? std::vector<double>() : dq0,
                                  dk_start = nulls == 2 ? std::vector<double>() : dk0,
                                  dv_start = nulls == 2 ? std::vector<double>() : dv0;
        std::vector<double> scores(score_size(s)), dq = dq_start, dk = dk_start, dv = dv_start;
        cpu64_->additive_scores(query.data(), keys.data(), v.data(), s.query_len, s.source_len,
                                s.batch, s.width, scores.data());
        cpu64_->additive_scores_backward(query.data(), keys.data(), v.data(), dscores.data(),
                                         s.query_len, s.source_len, s.batch, s.width, or_null(dq),
                                         or_null(dk), or_null(dv), mode);

        Buffer<float> d_query = upload_float(query), d_keys = upload_float(keys),
                      d_v = upload_float(v), d_dscores = upload_float(dscores),
                      d_scores(device(), scores.size()), d_dq = upload_float(dq_start),
                      d_dk = upload_float(dk_start), d_dv = upload_float(dv_start);
        gpu_->additive_scores(d_query.data(), d_keys.data(), d_v.data(), s.query_len, s.source_len,
                              s.batch, s.width, d_scores.data());
        gpu_->additive_scores_backward(
            d_query.data(), d_keys.data(), d_v.data(), d_dscores.data(), s.query_len, s.source_len,
            s.batch, s.width, data_or_null(d_dq), data_or_null(d_dk), data_or_null(d_dv), mode);
        expect_close(to_double(d_scores.download()), scores, kAdditiveTol, "scores");
        expect_close(to_double(d_dq.download()), dq, kAdditiveTol, "dquery");
        expect_close(to_double(d_dk.download()), dk, kAdditiveTol, "dkeys");
        expect_close(to_double(d_dv.download()), dv, kAdditiveTol, "dv");
      }
}

// No atomics anywhere in the attention path: the same inputs give the same bits.
TEST_F(CudaAttentionParity, RepeatedAttentionBackwardIsBitIdentical) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  const AttentionShape s{101, 201, 3, 128};
  const auto lengths = random_lengths(s.batch, s.source_len, rng);
  Buffer<float> d_query = upload_float(exact_uniform(query_size(s), rng)),
                d_keys = upload_float(exact_uniform(source_size(s), rng)),
                d_v = upload_float(exact_uniform(s.width, rng)),
                d_dweights = upload_float(exact_uniform(score_size(s), rng));
  Buffer<std::int32_t> d_lengths = upload(lengths);
  auto run = [&]() {
    Buffer<float> scores(device(), score_size(s)), weights(device(), score_size(s)),
        dscores(device(), score_size(s)), dq(device(), query_size(s)), dk(device(), source_size(s)),
        dv(device(), s.width);
    gpu_->additive_scores(d_query.data(), d_keys.data(), d_v.data(), s.query_len, s.source_len,
                          s.batch, s.width, scores.data());
    gpu_->masked_softmax(scores.data(), d_lengths.data(), s.query_len, s.source_len, s.batch,
                         weights.data());
    gpu_->masked_softmax_backward(weights.data(), d_dweights.data(), d_lengths.data(), s.query_len,
                                  s.source_len, s.batch, dscores.data());
    gpu_->additive_scores_backward(d_query.data(), d_keys.data(), d_v.data(), dscores.data(),
                                   s.query_len, s.source_len, s.batch, s.width, dq.data(),
                                   dk.data(), dv.data(), kOver);
    std::vector<float> all = weights.download();
    for (const Buffer<float>* b : {&dq, &dk, &dv}) {
      const std::vector<float> part = b->download();
      all.insert(all.end(), part.begin(), part.end());
    }
    return all;
  };
  EXPECT_TRUE(bitwise_equal(run(), run()));
}

// ---- elementwise and layout
// ------------------------------------------------------------------------

TEST_F(CudaAttentionParity, ElementwiseOpsMatchTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  for (const std::size_t n : {std::size_t{1}, std::size_t{33}, std::size_t{100003}}) {
    SCOPED_TRACE("n " + std::to_string(n));
    const auto x = exact_uniform(n, rng, -4.0, 4.0), dy = exact_uniform(n, rng);
    std::vector<double> y(n), dx(n);
    cpu64_->tanh_forward(x.data(), n, y.data());
    Buffer<float> d_x = upload_float(x), d_dy = upload_float(dy), d_y(device(), n);
    gpu_->tanh_forward(d_x.data(), n, d_y.data());
    const std::vector<double> gpu_y = to_double(d_y.download());
    cpu64_->tanh_backward(gpu_y.data(), dy.data(), n, dx.data());
    gpu_->tanh_backward(d_y.data(), d_dy.data(), n, d_dy.data());  // dx aliasing dy
    expect_close(gpu_y, y, kElementwiseTol, "tanh");
    expect_close(to_double(d_dy.download()), dx, kElementwiseTol, "tanh backward");
    gpu_->tanh_forward(d_x.data(), n, d_x.data());  // in place
    EXPECT_TRUE(bitwise_equal(d_x.download(), d_y.download())) << "tanh in place";

    // multiply (a dropout mask of 0 and 1/(1-p)) and accumulate: one float operation each, equal.
    std::vector<float> a = to_float(uniform(n, rng)), mask(n), sum = to_float(uniform(n, rng));
    for (float& m : mask) m = rng.below(3) == 0 ? 0.0f : 1.0f / 0.7f;
    std::vector<float> product(n), accumulated = sum;
    cpu32_->multiply(a.data(), mask.data(), n, product.data());
    cpu32_->accumulate(a.data(), n, accumulated.data());
    Buffer<float> d_a = upload(a), d_mask = upload(mask), d_sum = upload(sum);
    gpu_->multiply(d_a.data(), d_mask.data(), n, d_x.data());
    gpu_->accumulate(d_a.data(), n, d_sum.data());
    EXPECT_TRUE(bitwise_equal(d_x.download(), product)) << "multiply";
    EXPECT_TRUE(bitwise_equal(d_sum.download(), accumulated)) << "accumulate";
    gpu_->multiply(d_a.data(), d_mask.data(), n, d_a.data());  // in place
    EXPECT_TRUE(bitwise_equal(d_a.download(), product)) << "multiply in place";
  }
}

TEST_F(CudaAttentionParity, LayoutOpsEqualTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  struct Shape {
    int rows, a_width, b_width;
  };
  for (const Shape s : {Shape{1, 1, 1}, Shape{37, 5, 33}, Shape{3232, 128, 128}})
    for (const GradMode mode : {kOver, kAcc}) {
      SCOPED_TRACE("rows " + std::to_string(s.rows) + " a " + std::to_string(s.a_width) + " b " +
                   std::to_string(s.b_width) + mode_name(mode));
      const std::size_t na = static_cast<std::size_t>(s.rows) * s.a_width,
                        nb = static_cast<std::size_t>(s.rows) * s.b_width, n = na + nb;
      const auto a = to_float(uniform(na, rng)), b = to_float(uniform(nb, rng)),
                 dout = to_float(uniform(n, rng)), da0 = to_float(uniform(na, rng)),
                 db0 = to_float(uniform(nb, rng));
      std::vector<float> out(n), da = da0, db = db0;
      cpu32_->concat_columns(a.data(), b.data(), s.rows, s.a_width, s.b_width, out.data());
      cpu32_->split_columns(dout.data(), s.rows, s.a_width, s.b_width, da.data(), nullptr, mode);
      Buffer<float> d_a = upload(a), d_b = upload(b), d_out(device(), n), d_dout = upload(dout),
                    d_da = upload(da0), d_db = upload(db0);
      gpu_->concat_columns(d_a.data(), d_b.data(), s.rows, s.a_width, s.b_width, d_out.data());
      gpu_->split_columns(d_dout.data(), s.rows, s.a_width, s.b_width, d_da.data(), nullptr, mode);
      EXPECT_TRUE(bitwise_equal(d_out.download(), out)) << "concat_columns";
      EXPECT_TRUE(bitwise_equal(d_da.download(), da)) << "split_columns da";
      EXPECT_TRUE(bitwise_equal(d_db.download(), db0)) << "split_columns: db null, untouched";
      cpu32_->split_columns(dout.data(), s.rows, s.a_width, s.b_width, nullptr, db.data(), mode);
      gpu_->split_columns(d_dout.data(), s.rows, s.a_width, s.b_width, nullptr, d_db.data(), mode);
      EXPECT_TRUE(bitwise_equal(d_db.download(), db)) << "split_columns db";
    }

  struct SequenceShape {
    int steps, batch, width;
  };
  for (const SequenceShape s :
       {SequenceShape{1, 1, 1}, SequenceShape{9, 5, 33}, SequenceShape{201, 32, 256}}) {
    SCOPED_TRACE("T " + std::to_string(s.steps) + " B " + std::to_string(s.batch) + " X " +
                 std::to_string(s.width));
    const auto lengths = random_lengths(s.batch, s.steps, rng);
    const std::size_t n = static_cast<std::size_t>(s.steps) * s.batch * s.width;
    const auto x = to_float(uniform(n, rng));
    std::vector<float> reversed(n);
    cpu32_->reverse_sequences(x.data(), lengths.data(), s.steps, s.batch, s.width, reversed.data());
    Buffer<float> d_x = upload(x), d_out(device(), n);
    Buffer<std::int32_t> d_lengths = upload(lengths);
    gpu_->reverse_sequences(d_x.data(), d_lengths.data(), s.steps, s.batch, s.width, d_out.data());
    EXPECT_TRUE(bitwise_equal(d_out.download(), reversed)) << "reverse_sequences";

    // gather_rows as beam search uses it: [T, B, X] expanded to [T, B*K, X], K = 3.
    const int beams = 3, rows_out = s.batch * beams;
    std::vector<std::int32_t> index(rows_out);
    for (auto& i : index) i = static_cast<std::int32_t>(rng.below(s.batch));
    std::vector<float> gathered(static_cast<std::size_t>(s.steps) * rows_out * s.width);
    cpu32_->gather_rows(x.data(), index.data(), s.steps, s.batch, rows_out, s.width,
                        gathered.data());
    Buffer<std::int32_t> d_index = upload(index);
    Buffer<float> d_gathered(device(), gathered.size());
    gpu_->gather_rows(d_x.data(), d_index.data(), s.steps, s.batch, rows_out, s.width,
                      d_gathered.data());
    EXPECT_TRUE(bitwise_equal(d_gathered.download(), gathered)) << "gather_rows";
  }
}

// ---- decoding
// ---------------------------------------------------------------------------------------

TEST_F(CudaAttentionParity, LogSoftmaxMatchesTheCpuReferenceAlsoInPlace) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  struct Shape {
    int n, vocab;
  };
  for (const Shape s : {Shape{1, 1}, Shape{7, 33}, Shape{96, 30000}, Shape{3000, 13}}) {
    SCOPED_TRACE("n " + std::to_string(s.n) + " vocab " + std::to_string(s.vocab));
    const std::size_t size = static_cast<std::size_t>(s.n) * s.vocab;
    const auto logits = exact_uniform(size, rng, -20.0, 20.0);
    std::vector<double> out(size);
    cpu64_->log_softmax(logits.data(), s.n, s.vocab, out.data());
    Buffer<float> d_logits = upload_float(logits), d_out(device(), size);
    gpu_->log_softmax(d_logits.data(), s.n, s.vocab, d_out.data());
    expect_close(to_double(d_out.download()), out, kSoftmaxTol, "log_softmax");
    gpu_->log_softmax(d_logits.data(), s.n, s.vocab, d_logits.data());
    EXPECT_TRUE(bitwise_equal(d_logits.download(), d_out.download())) << "in place";
  }
}

TEST_F(CudaAttentionParity, BeamCandidatesEqualTheCpuReferenceWithTies) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  struct Shape {
    int batch, beams, vocab, count;
  };
  for (const Shape s : {Shape{1, 1, 1, 1}, Shape{3, 1, 50, 2}, Shape{32, 5, 1003, 10},
                        Shape{4, 8, 30000, 16}, Shape{2, 3, 7, 21}}) {
    SCOPED_TRACE("B " + std::to_string(s.batch) + " K " + std::to_string(s.beams) + " V " +
                 std::to_string(s.vocab) + " count " + std::to_string(s.count));
    const std::size_t rows = static_cast<std::size_t>(s.batch) * s.beams;
    // Log-probabilities from a few values (ties across beams and tokens), beams finished (-inf).
    std::vector<float> log_probs(rows * s.vocab), beam_scores(rows);
    for (float& x : log_probs) x = -0.5f * static_cast<float>(rng.below(8));
    // A diverged row's NaN: ranked after every number, on both backends.
    for (std::size_t i = 0; i < log_probs.size(); i += 97)
      log_probs[i] = std::numeric_limits<float>::quiet_NaN();
    for (float& x : beam_scores)
      x = rng.below(5) == 0 ? -std::numeric_limits<float>::infinity()
                            : -0.25f * static_cast<float>(rng.below(4));
    std::vector<float> scores(static_cast<std::size_t>(s.batch) * s.count);
    std::vector<std::int32_t> ids(scores.size());
    cpu32_->beam_candidates(log_probs.data(), beam_scores.data(), s.batch, s.beams, s.vocab,
                            s.count, scores.data(), ids.data());
    Buffer<float> d_log_probs = upload(log_probs), d_beam_scores = upload(beam_scores),
                  d_scores(device(), scores.size());
    Buffer<std::int32_t> d_ids(device(), ids.size());
    gpu_->beam_candidates(d_log_probs.data(), d_beam_scores.data(), s.batch, s.beams, s.vocab,
                          s.count, d_scores.data(), d_ids.data());
    EXPECT_EQ(d_ids.download(), ids);
    // Equal scores, NaN where the reference has NaN (bitwise: a NaN's payload may differ).
    const std::vector<float> gpu_scores = d_scores.download();
    for (std::size_t i = 0; i < scores.size(); ++i)
      EXPECT_TRUE(std::isnan(scores[i]) ? std::isnan(gpu_scores[i]) : gpu_scores[i] == scores[i])
          << "rank " << i << ": gpu " << gpu_scores[i] << ", reference " << scores[i];
  }
}

TEST_F(CudaAttentionParity, BeamCandidatesBeyondTheKernelLimitThrow) {
  if (cpu_stand_in()) GTEST_SKIP() << "the limit is the CUDA kernel's";
  const int beams = 2, vocab = cuda::kMaxBeamCandidates;
  Buffer<float> log_probs(device(), static_cast<std::size_t>(beams) * vocab),
      beam_scores(device(), beams), scores(device(), cuda::kMaxBeamCandidates + 1);
  Buffer<std::int32_t> ids(device(), cuda::kMaxBeamCandidates + 1);
  EXPECT_ERROR_WITH(gpu_->beam_candidates(log_probs.data(), beam_scores.data(), 1, beams, vocab,
                                          cuda::kMaxBeamCandidates + 1, scores.data(), ids.data()),
                    "at most " + std::to_string(cuda::kMaxBeamCandidates) + " candidates",
                    std::to_string(cuda::kMaxBeamCandidates + 1) + " were asked for");
}

}  // namespace
}  // namespace s2s
