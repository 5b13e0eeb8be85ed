// The CUDA kernels' per-thread bodies run on the CPU, without a device (suites Kernel*): each
// pointwise step (LSTM, GRU, tanh RNN; forward and backward), the final-state gather and the
// one-hot gather's tile walk, launched thread by thread with the launchers' own shapes
// (tests/kernel_emulation.h), against a float64 reference written here from PyTorch's
// equations. Padded rows, a null output gradient and odd shapes (B = 1, H not a multiple of 32)
// included. Not labelled gpu: CI runs them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernel_emulation.h"
#include "kernels/gru_pointwise.h"
#include "kernels/launch_shape.h"
#include "kernels/lstm_pointwise.h"
#include "kernels/one_hot_projection.h"
#include "kernels/rnn_final_state.h"
#include "kernels/rnn_tanh_pointwise.h"
#include "s2s/random.h"

namespace s2s::test {
namespace {

// float kernels (expf/tanhf) against float64 equations on O(1) values: a few float roundings.
constexpr double kKernelAtol = 2e-6;
constexpr double kKernelRtol = 2e-5;

struct Shape {
  int batch, hidden;
};
// B = 1; H = 1; H not a multiple of 32 (33, 37); a batch of odd size.
const Shape kShapes[] = {{1, 1}, {1, 37}, {3, 33}, {5, 64}, {7, 129}};

std::vector<float> random_floats(std::size_t n, Rng& rng, double bound = 1.0) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.uniform(-bound, bound));
  return v;
}

// Lengths with padded rows at step `step` whenever B > 1 (row 1 ends before it).
std::vector<std::int32_t> lengths_for(int batch, int step) {
  std::vector<std::int32_t> lengths(batch, step + 2);
  if (batch > 1) lengths[1] = step;  // padded at `step`
  return lengths;
}

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

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

std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

constexpr int kStep = 3;

TEST(KernelLstmPointwise, ForwardAndBackwardMatchTheEquations) {
  Rng rng(1501);
  for (const Shape s : kShapes) {
    SCOPED_TRACE("B " + std::to_string(s.batch) + " H " + std::to_string(s.hidden));
    const int B = s.batch, H = s.hidden;
    const std::size_t BH = static_cast<std::size_t>(B) * H, G = 4 * static_cast<std::size_t>(H);
    const auto lengths = lengths_for(B, kStep);
    const auto recurrent = random_floats(B * G, rng), bias_ih = random_floats(G, rng),
               bias_hh = random_floats(G, rng), c_prev = random_floats(BH, rng);
    const auto projection = random_floats(B * G, rng);
    std::vector<float> gates = projection, c_next(BH, 7.0f), h_next(BH, 7.0f);

    const cuda::LstmForwardStep f{B, H, kStep, lengths.data(), recurrent.data(), bias_ih.data(),
                                  bias_hh.data(), c_prev.data(), gates.data(), c_next.data(),
                                  h_next.data()};
    const std::size_t calls = emulate_grid_stride(cuda::grid_stride_shape(BH), BH, [&](int idx) {
      cuda::lstm_pointwise_forward_unit(f, idx);
    });
    EXPECT_EQ(calls, BH) << "one thread per unit";

    std::vector<double> want_gates = widen(projection), want_c(BH, 7.0), want_h(BH, 7.0);
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < H; ++j) {
        const std::size_t u = static_cast<std::size_t>(b) * H + j;
        if (kStep >= lengths[b]) {
          want_h[u] = 0.0;  // padded: output 0, cell state and gates untouched
          continue;
        }
        double a[4];
        for (int q = 0; q < 4; ++q) {
          const std::size_t k = static_cast<std::size_t>(q) * H + j;
          a[q] = double(projection[b * G + k]) + bias_ih[k] + recurrent[b * G + k] + bias_hh[k];
        }
        const double i = sigmoid(a[0]), fg = sigmoid(a[1]), g = std::tanh(a[2]),
                     o = sigmoid(a[3]);
        want_c[u] = fg * c_prev[u] + i * g;
        want_h[u] = o * std::tanh(want_c[u]);
        const double act[4] = {i, fg, g, o};
        for (int q = 0; q < 4; ++q) want_gates[b * G + q * H + j] = act[q];
      }
    expect_near_all(gates, want_gates, "gates");
    expect_near_all(c_next, want_c, "c_next");
    expect_near_all(h_next, want_h, "h_next");

    // Backward from the forward's cache, with and without an output gradient.
    for (const bool with_output : {true, false}) {
      const auto doutput = random_floats(BH, rng), dh_in = random_floats(BH, rng),
                 dc_in = random_floats(BH, rng);
      std::vector<float> dgates = gates, dh = dh_in, dc = dc_in;
      const cuda::LstmBackwardStep bw{B, H, kStep, lengths.data(), c_prev.data(), c_next.data(),
                                      with_output ? doutput.data() : nullptr, dgates.data(),
                                      dh.data(), dc.data()};
      emulate_grid_stride(cuda::grid_stride_shape(BH), BH,
                          [&](int idx) { cuda::lstm_pointwise_backward_unit(bw, idx); });
      std::vector<double> want_dgates(B * G), want_dh = widen(dh_in), want_dc = widen(dc_in);
      for (int b = 0; b < B; ++b)
        for (int j = 0; j < H; ++j) {
          const std::size_t u = static_cast<std::size_t>(b) * H + j;
          if (kStep >= lengths[b]) continue;  // gates 0, state gradients pass unchanged
          const double i = gates[b * G + j], fg = gates[b * G + H + j],
                       g = gates[b * G + 2 * H + j], o = gates[b * G + 3 * H + j];
          const double dht = double(dh_in[u]) + (with_output ? doutput[u] : 0.0);
          const double tc = std::tanh(double(c_next[u]));
          const double dct = dc_in[u] + dht * o * (1 - tc * tc);
          want_dgates[b * G + j] = dct * g * i * (1 - i);
          want_dgates[b * G + H + j] = dct * c_prev[u] * fg * (1 - fg);
          want_dgates[b * G + 2 * H + j] = dct * i * (1 - g * g);
          want_dgates[b * G + 3 * H + j] = dht * tc * o * (1 - o);
          want_dc[u] = dct * fg;
          want_dh[u] = 0.0;
        }
      expect_near_all(dgates, want_dgates, "dgates");
      expect_near_all(dh, want_dh, "dh_state");
      expect_near_all(dc, want_dc, "dc_state");
    }
  }
}

TEST(KernelGruPointwise, ForwardAndBackwardMatchTheEquations) {
  Rng rng(1502);
  for (const Shape s : kShapes) {
    SCOPED_TRACE("B " + std::to_string(s.batch) + " H " + std::to_string(s.hidden));
    const int B = s.batch, H = s.hidden;
    const std::size_t BH = static_cast<std::size_t>(B) * H, G = 3 * static_cast<std::size_t>(H);
    const auto lengths = lengths_for(B, kStep);
    const auto recurrent = random_floats(B * G, rng), bias_ih = random_floats(G, rng),
               bias_hh = random_floats(G, rng), h_prev = random_floats(BH, rng);
    const auto projection = random_floats(B * G, rng);
    std::vector<float> gates = projection, hh_new(BH, 7.0f), h_next(BH, 7.0f);
    const cuda::GruForwardStep f{B, H, kStep, lengths.data(), recurrent.data(), bias_ih.data(),
                                 bias_hh.data(), h_prev.data(), gates.data(), hh_new.data(),
                                 h_next.data()};
    emulate_grid_stride(cuda::grid_stride_shape(BH), BH,
                        [&](int idx) { cuda::gru_pointwise_forward_unit(f, idx); });
    std::vector<double> want_gates = widen(projection), want_hh(BH, 7.0), want_h(BH, 7.0);
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < H; ++j) {
        const std::size_t u = static_cast<std::size_t>(b) * H + j;
        if (kStep >= lengths[b]) {
          want_h[u] = 0.0;
          continue;
        }
        auto at = [&](const std::vector<float>& v, int q) { return double(v[b * G + q * H + j]); };
        const double r = sigmoid(at(projection, 0) + bias_ih[j] + at(recurrent, 0) + bias_hh[j]);
        const double z =
            sigmoid(at(projection, 1) + bias_ih[H + j] + at(recurrent, 1) + bias_hh[H + j]);
        want_hh[u] = at(recurrent, 2) + bias_hh[2 * H + j];
        const double n = std::tanh(at(projection, 2) + bias_ih[2 * H + j] + r * want_hh[u]);
        want_h[u] = (1 - z) * n + z * h_prev[u];
        want_gates[b * G + j] = r;
        want_gates[b * G + H + j] = z;
        want_gates[b * G + 2 * H + j] = n;
      }
    expect_near_all(gates, want_gates, "gates");
    expect_near_all(hh_new, want_hh, "hh_new");
    expect_near_all(h_next, want_h, "h_next");

    for (const bool with_output : {true, false}) {
      const auto doutput = random_floats(BH, rng), dh_in = random_floats(BH, rng);
      std::vector<float> dgates = gates, dgates_hh(B * G, 7.0f), dh = dh_in;
      const cuda::GruBackwardStep bw{B, H, kStep, lengths.data(), h_prev.data(), hh_new.data(),
                                     with_output ? doutput.data() : nullptr, dgates.data(),
                                     dgates_hh.data(), dh.data()};
      emulate_grid_stride(cuda::grid_stride_shape(BH), BH,
                          [&](int idx) { cuda::gru_pointwise_backward_unit(bw, idx); });
      std::vector<double> want_dg(B * G), want_dg_hh(B * G), want_dh = widen(dh_in);
      for (int b = 0; b < B; ++b)
        for (int j = 0; j < H; ++j) {
          const std::size_t u = static_cast<std::size_t>(b) * H + j;
          if (kStep >= lengths[b]) continue;  // both gate gradients 0, dh passes unchanged
          const double r = gates[b * G + j], z = gates[b * G + H + j],
                       n = gates[b * G + 2 * H + j];
          const double dht = double(dh_in[u]) + (with_output ? doutput[u] : 0.0);
          const double dn = dht * (1 - z) * (1 - n * n);
          const double dz = dht * (double(h_prev[u]) - n) * z * (1 - z);
          const double dr = dn * hh_new[u] * r * (1 - r);
          want_dg[b * G + j] = want_dg_hh[b * G + j] = dr;
          want_dg[b * G + H + j] = want_dg_hh[b * G + H + j] = dz;
          want_dg[b * G + 2 * H + j] = dn;
          want_dg_hh[b * G + 2 * H + j] = dn * r;
          want_dh[u] = dht * z;
        }
      expect_near_all(dgates, want_dg, "dgates");
      expect_near_all(dgates_hh, want_dg_hh, "dgates_hh");
      expect_near_all(dh, want_dh, "dh_state");
    }
  }
}

TEST(KernelRnnTanhPointwise, ForwardAndBackwardMatchTheEquations) {
  Rng rng(1503);
  for (const Shape s : kShapes) {
    SCOPED_TRACE("B " + std::to_string(s.batch) + " H " + std::to_string(s.hidden));
    const int B = s.batch, H = s.hidden;
    const std::size_t BH = static_cast<std::size_t>(B) * H;
    const auto lengths = lengths_for(B, kStep);
    const auto recurrent = random_floats(BH, rng), bias_ih = random_floats(H, rng),
               bias_hh = random_floats(H, rng), projection = random_floats(BH, rng);
    std::vector<float> gates = projection, h_next(BH, 7.0f);
    const cuda::RnnTanhForwardStep f{B, H, kStep, lengths.data(), recurrent.data(),
                                     bias_ih.data(), bias_hh.data(), gates.data(), h_next.data()};
    emulate_grid_stride(cuda::grid_stride_shape(BH), BH,
                        [&](int idx) { cuda::rnn_tanh_pointwise_forward_unit(f, idx); });
    std::vector<double> want_gates = widen(projection), want_h(BH);
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < H; ++j) {
        const std::size_t u = static_cast<std::size_t>(b) * H + j;
        if (kStep >= lengths[b]) continue;
        want_gates[u] = want_h[u] =
            std::tanh(double(projection[u]) + bias_ih[j] + recurrent[u] + bias_hh[j]);
      }
    expect_near_all(gates, want_gates, "gates");
    expect_near_all(h_next, want_h, "h_next");

    const auto doutput = random_floats(BH, rng), dh_in = random_floats(BH, rng);
    std::vector<float> dgates = gates, dh = dh_in;
    const cuda::RnnTanhBackwardStep bw{B, H, kStep, lengths.data(), doutput.data(),
                                       dgates.data(), dh.data()};
    emulate_grid_stride(cuda::grid_stride_shape(BH), BH,
                        [&](int idx) { cuda::rnn_tanh_pointwise_backward_unit(bw, idx); });
    std::vector<double> want_dg(BH), want_dh = widen(dh_in);
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < H; ++j) {
        const std::size_t u = static_cast<std::size_t>(b) * H + j;
        if (kStep >= lengths[b]) continue;
        const double h = gates[u];
        want_dg[u] = (double(dh_in[u]) + doutput[u]) * (1 - h * h);
        want_dh[u] = 0.0;
      }
    expect_near_all(dgates, want_dg, "dgates");
    expect_near_all(dh, want_dh, "dh_state");
  }
}

// out[b] = state_seq[lengths[b], b]: with lengths 1..T, T = 2,001 and B = 1 included.
TEST(KernelRnnFinalState, GathersEachSequencesLastRealState) {
  Rng rng(1504);
  const struct {
    int steps, batch, hidden;
  } cases[] = {{1, 1, 1}, {2001, 1, 37}, {5, 7, 33}};
  for (const auto& c : cases) {
    const std::size_t BH = static_cast<std::size_t>(c.batch) * c.hidden;
    const auto seq = random_floats((c.steps + 1) * BH, rng);
    std::vector<std::int32_t> lengths(c.batch);
    for (auto& l : lengths) l = 1 + static_cast<std::int32_t>(rng.below(c.steps));
    std::vector<float> out(BH, 7.0f);
    emulate_grid_stride(cuda::grid_stride_shape(BH), BH, [&](int idx) {
      cuda::rnn_final_state_unit(seq.data(), lengths.data(), c.batch, c.hidden, out.data(), idx);
    });
    for (int b = 0; b < c.batch; ++b)
      for (int j = 0; j < c.hidden; ++j)
        EXPECT_EQ(out[b * c.hidden + j], seq[lengths[b] * BH + b * c.hidden + j])
            << "b " << b << " j " << j;
  }
}

// The coalesced gather's tiles cover every real (row, g) exactly once and write W_ih[g, token];
// padded rows are never written (their tokens are never read: -1 here).
TEST(KernelOneHotGather, TilesCoverEveryRealElementOnce) {
  Rng rng(1505);
  const struct {
    int steps, batch, gate_width, vocab;
  } cases[] = {{1, 1, 4, 3}, {2001, 1, 4 * 37, 13}, {7, 5, 3 * 33, 40}, {3, 70, 1, 2}};
  for (const auto& c : cases) {
    const std::size_t rows = static_cast<std::size_t>(c.steps) * c.batch;
    const auto weight = random_floats(static_cast<std::size_t>(c.gate_width) * c.vocab, rng);
    std::vector<std::int32_t> lengths(c.batch), tokens(rows);
    for (auto& l : lengths) l = 1 + static_cast<std::int32_t>(rng.below(c.steps));
    for (std::size_t r = 0; r < rows; ++r) {
      const int t = static_cast<int>(r / c.batch), b = static_cast<int>(r % c.batch);
      tokens[r] = t < lengths[b] ? static_cast<std::int32_t>(rng.below(c.vocab)) : -1;
    }
    std::vector<int> writes(rows * c.gate_width, 0);
    std::vector<float> gates(rows * c.gate_width, 7.0f);
    emulate_gather_tiles(cuda::one_hot_gather_shape(rows, c.gate_width), rows, c.gate_width,
                         [&](std::size_t row, int g) {
                           const int t = static_cast<int>(row / c.batch);
                           const int b = static_cast<int>(row % c.batch);
                           if (t >= lengths[b]) return;  // the kernel's mask
                           gates[row * c.gate_width + g] = cuda::one_hot_gather_element(
                               weight.data(), c.vocab, tokens[row], g);
                           ++writes[row * c.gate_width + g];
                         });
    for (std::size_t r = 0; r < rows; ++r) {
      const bool real = tokens[r] >= 0;
      for (int g = 0; g < c.gate_width; ++g) {
        const std::size_t e = r * c.gate_width + g;
        ASSERT_EQ(writes[e], real ? 1 : 0) << "row " << r << " g " << g;
        EXPECT_EQ(gates[e], real ? weight[static_cast<std::size_t>(g) * c.vocab + tokens[r]]
                                 : 7.0f);
      }
    }
  }
}

}  // namespace
}  // namespace s2s::test
