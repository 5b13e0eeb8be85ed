// Checks the bidirectional layer stack (host/model/layer_stack.h) against
// torch.nn.LSTM/GRU/RNN(bidirectional=True) on packed sequences: outputs, final states and
// gradients that tests/fixtures/make_bidirectional_fixtures.py recorded from PyTorch in float64
// (the script documents the format), on the CPU backend in double and float.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/layer_stack.h"
#include "s2s/seq2seq.h"
#include "s2s/backend.h"
#include "s2s/buffer.h"

namespace s2s::test {
namespace {

// Double against PyTorch's double: the same math in a different summation order.
constexpr double kTorchDoubleAtol = 1e-10;
constexpr double kTorchDoubleRtol = 1e-8;
// Float against PyTorch's double: float rounding through two layers, both directions, five
// steps of O(1) values.
constexpr double kTorchFloatAtol = 3e-5;
constexpr double kTorchFloatRtol = 1e-4;

using nlohmann::json;

json load(const std::string& name) {
  const std::string path = std::string(S2S_FIXTURE_DIR) + "/" + name + ".json";
  std::ifstream file(path);
  if (!file)
    throw std::runtime_error("cannot open " + path +
                             " (regenerate with python3 tests/fixtures/make_bidirectional_fixtures.py)");
  return json::parse(file);
}

std::vector<double> array(const json& object, const std::string& key) {
  if (!object.contains(key)) throw std::runtime_error("fixture lacks \"" + key + "\"");
  return object.at(key).get<std::vector<double>>();
}

CellType cell_of(const std::string& name) {
  if (name == "lstm") return CellType::lstm;
  if (name == "gru") return CellType::gru;
  return CellType::rnn;
}

template <typename T>
void expect_near(const std::vector<T>& actual, const std::vector<double>& expected,
                 const std::string& what, double atol, double rtol) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  int failures = 0;
  for (std::size_t i = 0; i < actual.size() && failures < 5; ++i) {
    const double tol = atol + rtol * std::abs(expected[i]);
    if (std::abs(static_cast<double>(actual[i]) - expected[i]) > tol) {
      ADD_FAILURE() << what << "[" << i << "]: " << actual[i] << " vs PyTorch " << expected[i];
      ++failures;
    }
  }
}

// PyTorch's h_n [L * 2, B, H] (index layer * 2 + direction) to LayerStack's [2, L, B, H].
std::vector<double> direction_major(const std::vector<double>& torch_order, int layers,
                                    std::size_t block) {
  std::vector<double> out(torch_order.size());
  for (int k = 0; k < layers; ++k)
    for (int d = 0; d < 2; ++d)
      for (std::size_t i = 0; i < block; ++i)
        out[(static_cast<std::size_t>(d) * layers + k) * block + i] =
            torch_order[(static_cast<std::size_t>(k) * 2 + d) * block + i];
  return out;
}

template <typename T>
void check_fixture(const std::string& name, double atol, double rtol) {
  SCOPED_TRACE(name);
  const json j = load(name);
  LayerStackShape shape;
  shape.cell = cell_of(j.at("cell").get<std::string>());
  shape.layers = j.at("layers").get<int>();
  shape.directions = 2;
  shape.input_size = j.at("input_size").get<int>();
  shape.hidden_size = j.at("hidden_size").get<int>();
  shape.seq_len = j.at("seq_len").get<int>();
  shape.batch = j.at("batch").get<int>();
  const bool lstm = shape.cell == CellType::lstm;
  const bool one_hot = j.contains("tokens");
  const int L = shape.layers, H = shape.hidden_size, B = shape.batch, Tn = shape.seq_len;
  const std::size_t block = static_cast<std::size_t>(B) * H;

  auto ops = make_cpu_ops<T>();
  Memory& memory = ops->memory();
  auto device = [&](const std::vector<double>& values) {
    Buffer<T> b(memory, values.size());
    b.upload(std::vector<T>(values.begin(), values.end()));
    return b;
  };
  std::vector<std::string> names;
  for (int k = 0; k < L; ++k)
    for (const char* suffix : {"", "_reverse"})
      names.push_back(std::to_string(k) + suffix);
  std::map<std::string, Buffer<T>> weights, grads;
  std::vector<RnnLayerWeights<T>> w;
  std::vector<RnnLayerGrads<T>> g;
  for (const auto& n : names) {
    for (const char* kind : {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"}) {
      const std::string key = kind + n;
      weights.emplace(key, device(array(j.at("weights"), key)));
      grads.emplace(key, Buffer<T>(memory, weights.at(key).size()));
    }
    w.push_back({weights.at("weight_ih_l" + n).data(), weights.at("weight_hh_l" + n).data(),
                 weights.at("bias_ih_l" + n).data(), weights.at("bias_hh_l" + n).data()});
    g.push_back({grads.at("weight_ih_l" + n).data(), grads.at("weight_hh_l" + n).data(),
                 grads.at("bias_ih_l" + n).data(), grads.at("bias_hh_l" + n).data()});
  }

  const std::vector<std::int32_t> lengths = j.at("lengths").get<std::vector<std::int32_t>>();
  Buffer<std::int32_t> length_buffer(memory, lengths.size());
  length_buffer.upload(lengths);
  Buffer<T> x;
  Buffer<std::int32_t> tokens, reversed_tokens;
  RnnInput<T> input;
  if (one_hot) {
    const auto ids = j.at("tokens").get<std::vector<std::int32_t>>();
    // The reverse direction's tokens, reversed within each length (the model does this on the
    // host at upload).
    std::vector<std::int32_t> reversed(ids.size(), 0);
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < lengths[b]; ++t)
        reversed[static_cast<std::size_t>(t) * B + b] =
            ids[static_cast<std::size_t>(lengths[b] - 1 - t) * B + b];
    tokens = Buffer<std::int32_t>(memory, ids.size());
    tokens.upload(ids);
    reversed_tokens = Buffer<std::int32_t>(memory, ids.size());
    reversed_tokens.upload(reversed);
    input.tokens = tokens.data();
  } else {
    x = device(array(j, "x"));
    input.x = x.data();
  }

  Buffer<T> hn(memory, 2 * L * block), cn(memory, 2 * L * block);
  LayerStack<T> stack(*ops);
  stack.forward(shape, w.data(), input, reversed_tokens.data(), length_buffer.data(), nullptr,
                nullptr, nullptr, hn.data(), lstm ? cn.data() : nullptr);
  std::vector<T> y(static_cast<std::size_t>(Tn) * B * 2 * H);
  memory.download(y.data(), stack.output(), y.size() * sizeof(T));
  expect_near(y, array(j, "y"), "y", atol, rtol);
  expect_near(hn.download(), direction_major(array(j, "hn"), L, block), "hn", atol, rtol);
  if (lstm) expect_near(cn.download(), direction_major(array(j, "cn"), L, block), "cn", atol, rtol);

  const json& lw = j.at("loss_weights");
  Buffer<T> dy = device(array(lw, "y"));
  Buffer<T> dhn = device(direction_major(array(lw, "hn"), L, block));
  Buffer<T> dcn;
  if (lstm) dcn = device(direction_major(array(lw, "cn"), L, block));
  Buffer<T> dx;
  if (!one_hot) dx = Buffer<T>(memory, x.size());
  stack.backward(w.data(), dy.data(), dhn.data(), lstm ? dcn.data() : nullptr,
                 one_hot ? nullptr : dx.data(), nullptr, nullptr, g.data());
  for (const auto& [key, buffer] : grads)
    expect_near(buffer.download(), array(j.at("grads"), key), "d" + key, atol, rtol);
  if (!one_hot) expect_near(dx.download(), array(j.at("grads"), "x"), "dx", atol, rtol);
}

const char* const kFixtures[] = {"bidirectional_lstm", "bidirectional_gru", "bidirectional_rnn",
                                 "bidirectional_lstm_one_hot"};

TEST(BidirectionalTorchFixtures, DoubleMatchesPyTorch) {
  for (const char* name : kFixtures) check_fixture<double>(name, kTorchDoubleAtol, kTorchDoubleRtol);
}

TEST(BidirectionalTorchFixtures, FloatMatchesPyTorch) {
  for (const char* name : kFixtures) check_fixture<float>(name, kTorchFloatAtol, kTorchFloatRtol);
}

// What load_state_dict(strict=True) checks, without PyTorch in CI: the tensors PyTorch's own
// bidirectional module has (the fixture's weights, written from its named_parameters) are
// exactly a bidirectional s2s encoder's `encoder.rnn.*` tensors, each with as many values.
TEST(BidirectionalTorchFixtures, EncoderTensorsAreTorchBidirectionalModulesTensors) {
  for (const char* name : kFixtures) {
    SCOPED_TRACE(name);
    const json j = load(name);
    ModelConfig c;
    c.cell = cell_of(j.at("cell").get<std::string>());
    c.layers = j.at("layers").get<int>();
    c.hidden_size = j.at("hidden_size").get<int>();
    c.input = InputKind::features;
    c.source_features = j.at("input_size").get<int>();
    c.output = OutputKind::tokens;
    c.target_vocab_size = 5;
    c.bidirectional = true;
    std::map<std::string, std::size_t> ours;
    const std::string prefix = "encoder.rnn.";
    for (const ParameterInfo& p : parameter_layout(c))
      if (p.name.rfind(prefix, 0) == 0) ours[p.name.substr(prefix.size())] = p.size();
    std::map<std::string, std::size_t> torch;
    for (const auto& [key, values] : j.at("weights").items()) torch[key] = values.size();
    EXPECT_EQ(ours, torch);
  }
}

}  // namespace
}  // namespace s2s::test
