// Checks the CPU recurrent stack against torch.nn.LSTM / GRU / RNN: outputs and gradients that
// tests/fixtures/make_fixtures.py recorded from PyTorch in float64 (the script documents the
// format).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpu/ops_cpu.h"
#include "s2s/config.h"

namespace s2s::test {
namespace {

// Double against PyTorch's double: the same math in a different summation order.
constexpr double kTorchDoubleAtol = 1e-10;
constexpr double kTorchDoubleRtol = 1e-8;
// Our float instantiation against PyTorch's double: float rounding through two layers and five
// steps of O(1) values.
constexpr double kTorchFloatAtol = 2e-5;
constexpr double kTorchFloatRtol = 1e-4;

using nlohmann::json;

// One fixture, read into double arrays laid out as the C++ ops expect them.
struct Fixture {
  RnnDims dims;
  std::vector<std::int32_t> lengths;
  std::vector<double> x;               // empty for one-hot input
  std::vector<std::int32_t> tokens;    // empty for dense input
  std::vector<double> h0, c0;
  std::vector<std::vector<double>> weight_ih, weight_hh, bias_ih, bias_hh;
  std::vector<double> y, hn, cn;
  std::vector<double> dy, dhn, dcn;    // the loss weights
  std::vector<std::vector<double>> dweight_ih, dweight_hh, dbias_ih, dbias_hh;
  std::vector<double> dx, dh0, dc0;
};

// The array under key, which must have `size` entries.
std::vector<double> read_array(const json& object, const std::string& key, std::size_t size) {
  if (!object.contains(key)) throw std::runtime_error("fixture lacks \"" + key + "\"");
  std::vector<double> v = object.at(key).get<std::vector<double>>();
  if (v.size() != size) {
    throw std::runtime_error("fixture array \"" + key + "\" has " + std::to_string(v.size()) +
                             " values, expected " + std::to_string(size));
  }
  return v;
}

CellType cell_from_name(const std::string& name) {
  if (name == "lstm") return CellType::lstm;
  if (name == "gru") return CellType::gru;
  if (name == "rnn") return CellType::rnn;
  throw std::runtime_error("fixture has unknown cell \"" + name + "\"");
}

Fixture load_fixture(const std::string& name) {
  const std::string path = std::string(S2S_FIXTURE_DIR) + "/" + name + ".json";
  std::ifstream file(path);
  if (!file) {
    throw std::runtime_error("cannot open " + path +
                             " (regenerate with python3 tests/fixtures/make_fixtures.py)");
  }
  const json j = json::parse(file);
  Fixture f;
  f.dims.cell = cell_from_name(j.at("cell").get<std::string>());
  f.dims.layers = j.at("layers").get<int>();
  f.dims.input_size = j.at("input_size").get<int>();
  f.dims.hidden_size = j.at("hidden_size").get<int>();
  f.dims.seq_len = j.at("seq_len").get<int>();
  f.dims.batch = j.at("batch").get<int>();
  f.lengths = j.at("lengths").get<std::vector<std::int32_t>>();

  const std::size_t L = f.dims.layers, B = f.dims.batch, T = f.dims.seq_len;
  const std::size_t H = f.dims.hidden_size, In = f.dims.input_size;
  const std::size_t G = gate_count(f.dims.cell);
  const bool lstm = f.dims.cell == CellType::lstm;
  const bool one_hot = j.contains("tokens");
  const json& weights = j.at("weights");
  const json& grads = j.at("grads");
  const json& loss_weights = j.at("loss_weights");

  if (one_hot) f.tokens = j.at("tokens").get<std::vector<std::int32_t>>();
  else f.x = read_array(j, "x", T * B * In);
  f.h0 = read_array(j, "h0", L * B * H);
  f.y = read_array(j, "y", T * B * H);
  f.hn = read_array(j, "hn", L * B * H);
  f.dy = read_array(loss_weights, "y", T * B * H);
  f.dhn = read_array(loss_weights, "hn", L * B * H);
  f.dh0 = read_array(grads, "h0", L * B * H);
  if (!one_hot) f.dx = read_array(grads, "x", T * B * In);
  if (lstm) {
    f.c0 = read_array(j, "c0", L * B * H);
    f.cn = read_array(j, "cn", L * B * H);
    f.dcn = read_array(loss_weights, "cn", L * B * H);
    f.dc0 = read_array(grads, "c0", L * B * H);
  }
  for (std::size_t k = 0; k < L; ++k) {
    const std::string layer = "_l" + std::to_string(k);
    const std::size_t in = k == 0 ? In : H;
    f.weight_ih.push_back(read_array(weights, "weight_ih" + layer, G * H * in));
    f.weight_hh.push_back(read_array(weights, "weight_hh" + layer, G * H * H));
    f.bias_ih.push_back(read_array(weights, "bias_ih" + layer, G * H));
    f.bias_hh.push_back(read_array(weights, "bias_hh" + layer, G * H));
    f.dweight_ih.push_back(read_array(grads, "weight_ih" + layer, G * H * in));
    f.dweight_hh.push_back(read_array(grads, "weight_hh" + layer, G * H * H));
    f.dbias_ih.push_back(read_array(grads, "bias_ih" + layer, G * H));
    f.dbias_hh.push_back(read_array(grads, "bias_hh" + layer, G * H));
  }
  return f;
}

template <typename T>
std::vector<T> to_precision(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <typename T>
T* data_or_null(std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}

void expect_close(const std::vector<double>& expected, const std::vector<double>& actual,
                  const std::string& what, double atol, double rtol) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  int failures = 0;
  for (std::size_t i = 0; i < expected.size() && failures < 5; ++i) {
    const double tol = atol + rtol * std::abs(expected[i]);
    if (!(std::abs(actual[i] - expected[i]) <= tol)) {
      ++failures;
      ADD_FAILURE() << what << "[" << i << "]: s2s " << actual[i] << ", PyTorch " << expected[i]
                    << ", tolerance " << tol;
    }
  }
}

template <typename T>
void expect_close(const std::vector<double>& expected, const std::vector<T>& actual,
                  const std::string& what, double atol, double rtol) {
  expect_close(expected, std::vector<double>(actual.begin(), actual.end()), what, atol, rtol);
}

// Runs forward and backward in precision T on the fixture's data and compares every output
// and gradient with PyTorch's.
template <typename T>
void check_against_torch(const Fixture& f, double atol, double rtol) {
  const int L = f.dims.layers;
  const bool lstm = f.dims.cell == CellType::lstm;
  std::vector<std::vector<T>> weight_ih, weight_hh, bias_ih, bias_hh;
  std::vector<std::vector<T>> dweight_ih, dweight_hh, dbias_ih, dbias_hh;
  std::vector<RnnLayerWeights<T>> weights(L);
  std::vector<RnnLayerGrads<T>> grads(L);
  for (int k = 0; k < L; ++k) {
    weight_ih.push_back(to_precision<T>(f.weight_ih[k]));
    weight_hh.push_back(to_precision<T>(f.weight_hh[k]));
    bias_ih.push_back(to_precision<T>(f.bias_ih[k]));
    bias_hh.push_back(to_precision<T>(f.bias_hh[k]));
    dweight_ih.emplace_back(f.weight_ih[k].size());
    dweight_hh.emplace_back(f.weight_hh[k].size());
    dbias_ih.emplace_back(f.bias_ih[k].size());
    dbias_hh.emplace_back(f.bias_hh[k].size());
  }
  for (int k = 0; k < L; ++k) {
    weights[k] = {weight_ih[k].data(), weight_hh[k].data(), bias_ih[k].data(),
                  bias_hh[k].data()};
    grads[k] = {dweight_ih[k].data(), dweight_hh[k].data(), dbias_ih[k].data(),
                dbias_hh[k].data()};
  }
  std::vector<T> x = to_precision<T>(f.x);
  std::vector<T> h0 = to_precision<T>(f.h0), c0 = to_precision<T>(f.c0);
  RnnInput<T> input;
  if (f.tokens.empty()) input.x = x.data();
  else input.tokens = f.tokens.data();

  std::vector<T> y(f.y.size()), hn(f.hn.size()), cn(f.cn.size());
  std::vector<T> workspace(cpu::rnn_workspace_size_cpu(f.dims));
  cpu::rnn_forward_cpu<T>(f.dims, weights.data(), input, f.lengths.data(), h0.data(),
                          data_or_null(c0), y.data(), hn.data(), data_or_null(cn),
                          workspace.data());
  expect_close(f.y, y, "y", atol, rtol);
  expect_close(f.hn, hn, "hn", atol, rtol);
  if (lstm) expect_close(f.cn, cn, "cn", atol, rtol);

  std::vector<T> dy = to_precision<T>(f.dy), dhn = to_precision<T>(f.dhn);
  std::vector<T> dcn = to_precision<T>(f.dcn);
  std::vector<T> dx(f.dx.size()), dh0(f.dh0.size()), dc0(f.dc0.size());
  cpu::rnn_backward_cpu<T>(f.dims, weights.data(), input, f.lengths.data(), h0.data(),
                           data_or_null(c0), dy.data(), dhn.data(), data_or_null(dcn),
                           data_or_null(dx), dh0.data(), data_or_null(dc0), grads.data(),
                           GradMode::overwrite, workspace.data());
  for (int k = 0; k < L; ++k) {
    const std::string layer = "_l" + std::to_string(k);
    expect_close(f.dweight_ih[k], dweight_ih[k], "dweight_ih" + layer, atol, rtol);
    expect_close(f.dweight_hh[k], dweight_hh[k], "dweight_hh" + layer, atol, rtol);
    expect_close(f.dbias_ih[k], dbias_ih[k], "dbias_ih" + layer, atol, rtol);
    expect_close(f.dbias_hh[k], dbias_hh[k], "dbias_hh" + layer, atol, rtol);
  }
  if (!f.dx.empty()) expect_close(f.dx, dx, "dx", atol, rtol);
  expect_close(f.dh0, dh0, "dh0", atol, rtol);
  if (lstm) expect_close(f.dc0, dc0, "dc0", atol, rtol);
}

class TorchFixtureTest : public testing::TestWithParam<std::string> {};

TEST_P(TorchFixtureTest, DoubleMatchesPyTorch) {
  const Fixture f = load_fixture(GetParam());
  check_against_torch<double>(f, kTorchDoubleAtol, kTorchDoubleRtol);
}

TEST_P(TorchFixtureTest, FloatMatchesPyTorch) {
  const Fixture f = load_fixture(GetParam());
  check_against_torch<float>(f, kTorchFloatAtol, kTorchFloatRtol);
}

INSTANTIATE_TEST_SUITE_P(Rnn, TorchFixtureTest,
                         testing::Values("rnn_lstm", "rnn_gru", "rnn_rnn", "rnn_lstm_one_hot"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace s2s::test
