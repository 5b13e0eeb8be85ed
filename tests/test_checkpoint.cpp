// Checkpoints: round trips of everything, exact resumption, and every kind of bad file or failed
// save refused with a message that names the problem.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "expect_error.h"
#include "io/checkpoint_bytes.h"
#include "io/safetensors.h"
#include "s2s/checkpoint.h"
#include "s2s/tasks.h"

namespace s2s {
namespace {

namespace fs = std::filesystem;

// ---- Helpers. ----

bool bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// A fresh folder per test, removed afterwards.
class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (fs::temp_directory_path() / "s2s_checkpoint_XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempFolder() {
    std::error_code ignored;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }
  // Names of the entries in the folder, sorted.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path path_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// A safetensors file made by hand: the 8-byte little-endian length, the header, the data.
// framed_as states a header length of its own.
std::string framed_as(std::uint64_t length, const std::string& header, const std::string& data) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
  return out + header + data;
}
std::string framed(const std::string& header, const std::string& data = "") {
  return framed_as(header.size(), header, data);
}

// Source pairs with non-ASCII characters, so the vocabularies test UTF-8 in the metadata.
TokenDataset sample_data() {
  return encode_pairs(
      {{"aé", "éa"}, {"b€", "€b"}, {"ab", "ba"}, {"€é", "é€"}, {"𝄞a", "a𝄞"}, {"bb", "bb"}});
}

ModelConfig token_config(const TokenDataset& data) {
  ModelConfig config;
  config.cell = CellType::lstm;
  config.hidden_size = 5;
  config.layers = 2;
  config.input = InputKind::embedding;
  config.embedding_size = 3;
  config.source_vocab_size = data.source_vocab.size();
  config.target_vocab_size = data.target_vocab.size();
  config.max_target_length = 6;
  return config;
}

Batch batch_of(const TokenDataset& data, std::size_t begin, std::size_t end) {
  std::vector<std::size_t> order(data.size());
  std::iota(order.begin(), order.end(), 0);
  return make_batch(data, order, begin, end);
}

// Trains `steps` updates, cycling through batches of 2 (starting at update `first`).
void train(Seq2Seq& model, const TokenDataset& data, int first, int steps) {
  const std::size_t batches = data.size() / 2;
  for (int s = first; s < first + steps; ++s) {
    const std::size_t b = static_cast<std::size_t>(s) % batches;
    model.train_step(batch_of(data, 2 * b, 2 * b + 2));
  }
}

TrainingState sample_training() {
  TrainingState t;
  t.epoch = 7;
  t.step = 1234567890123;
  t.best_valid_loss = 0.1 + 0.2;  // not exactly representable: tests the JSON round trip
  t.epochs_without_improvement = 3;
  t.rng_state = "12345 67890 \"quoted\" \\ ünïcode";
  t.data_json = R"({"task":"addition","digits":3,"reverse":true})";
  return t;
}

// A trained checkpoint with Adam state (non-default optimizer settings).
CheckpointData trained_checkpoint() {
  const TokenDataset data = sample_data();
  Seq2Seq model(token_config(data), 42);
  OptimizerConfig adam;
  adam.learning_rate = 0.003;
  adam.beta1 = 0.85;
  adam.beta2 = 0.995;
  adam.epsilon = 1e-6;
  adam.decay = 1e-3;
  adam.clip_norm = 1.5;
  model.set_optimizer(adam);
  train(model, data, 0, 3);
  return checkpoint_of(model, data.source_vocab, data.target_vocab, sample_training());
}

void expect_same(const CheckpointData& a, const CheckpointData& b) {
  EXPECT_EQ(a.config.cell, b.config.cell);
  EXPECT_EQ(a.config.hidden_size, b.config.hidden_size);
  EXPECT_EQ(a.config.layers, b.config.layers);
  EXPECT_EQ(a.config.mode, b.config.mode);
  EXPECT_EQ(a.config.input, b.config.input);
  EXPECT_EQ(a.config.source_vocab_size, b.config.source_vocab_size);
  EXPECT_EQ(a.config.source_features, b.config.source_features);
  EXPECT_EQ(a.config.embedding_size, b.config.embedding_size);
  EXPECT_EQ(a.config.output, b.config.output);
  EXPECT_EQ(a.config.target_vocab_size, b.config.target_vocab_size);
  EXPECT_EQ(a.config.target_features, b.config.target_features);
  EXPECT_EQ(a.config.max_target_length, b.config.max_target_length);
  EXPECT_EQ(a.source_vocab.symbols(), b.source_vocab.symbols());
  EXPECT_EQ(a.target_vocab.symbols(), b.target_vocab.symbols());
  EXPECT_EQ(a.training.epoch, b.training.epoch);
  EXPECT_EQ(a.training.step, b.training.step);
  EXPECT_EQ(a.training.best_valid_loss, b.training.best_valid_loss);
  EXPECT_EQ(a.training.epochs_without_improvement, b.training.epochs_without_improvement);
  EXPECT_EQ(a.training.rng_state, b.training.rng_state);
  EXPECT_EQ(a.training.data_json, b.training.data_json);
  EXPECT_EQ(a.has_optimizer, b.has_optimizer);
  EXPECT_EQ(a.optimizer.kind, b.optimizer.kind);
  EXPECT_EQ(a.optimizer.learning_rate, b.optimizer.learning_rate);
  EXPECT_EQ(a.optimizer.momentum, b.optimizer.momentum);
  EXPECT_EQ(a.optimizer.beta1, b.optimizer.beta1);
  EXPECT_EQ(a.optimizer.beta2, b.optimizer.beta2);
  EXPECT_EQ(a.optimizer.epsilon, b.optimizer.epsilon);
  EXPECT_EQ(a.optimizer.decay, b.optimizer.decay);
  EXPECT_EQ(a.optimizer.clip_norm, b.optimizer.clip_norm);
  EXPECT_EQ(a.optimizer_step, b.optimizer_step);
  EXPECT_TRUE(bits_equal(a.parameters, b.parameters));
  ASSERT_EQ(a.optimizer_state.size(), b.optimizer_state.size());
  for (std::size_t i = 0; i < a.optimizer_state.size(); ++i) {
    EXPECT_EQ(a.optimizer_state[i].first, b.optimizer_state[i].first);
    EXPECT_TRUE(bits_equal(a.optimizer_state[i].second, b.optimizer_state[i].second))
        << a.optimizer_state[i].first;
  }
}

// ---- Round trips. ----

TEST(CheckpointRoundTrip, EverythingSurvivesAFile) {
  TempFolder folder;
  const CheckpointData saved = trained_checkpoint();
  ASSERT_EQ(saved.optimizer_state.size(), 2u);
  EXPECT_EQ(saved.optimizer_step, 3);
  const std::string path = folder.file("model.safetensors");
  save_checkpoint(path, saved);
  EXPECT_EQ(folder.listing(), std::vector<std::string>{"model.safetensors"});  // no temp file
  const CheckpointData loaded = load_checkpoint(path);
  expect_same(saved, loaded);
  // The symbols really are multi-byte UTF-8, and specials stay implicit.
  EXPECT_TRUE(loaded.source_vocab.contains("𝄞"));
  EXPECT_EQ(loaded.source_vocab.size(), saved.config.source_vocab_size);
}

TEST(CheckpointRoundTrip, EveryOptimizerAndModelKind) {
  const TokenDataset data = sample_data();
  struct Case {
    const char* what;
    bool has_optimizer;
    OptimizerKind kind;
    double momentum;
    std::size_t state_tensors;
  };
  for (const Case& k : {Case{"adam", true, OptimizerKind::adam, 0.0, 2},
                        Case{"sgd+momentum", true, OptimizerKind::sgd, 0.9, 1},
                        Case{"plain sgd", true, OptimizerKind::sgd, 0.0, 0},
                        Case{"no optimizer", false, OptimizerKind::adam, 0.0, 0}}) {
    SCOPED_TRACE(k.what);
    ModelConfig config = token_config(data);
    config.cell = CellType::gru;
    config.input = InputKind::one_hot;
    Seq2Seq model(config, 3);
    if (k.has_optimizer) {
      OptimizerConfig o;
      o.kind = k.kind;
      o.momentum = k.momentum;
      o.learning_rate = 0.05;
      model.set_optimizer(o);
      train(model, data, 0, 2);
    }
    const CheckpointData saved = checkpoint_of(model, data.source_vocab, data.target_vocab, {});
    EXPECT_EQ(saved.has_optimizer, k.has_optimizer);
    EXPECT_EQ(saved.optimizer_state.size(), k.state_tensors);
    const CheckpointData loaded = parse_checkpoint(checkpoint_bytes(saved), "memory");
    expect_same(saved, loaded);
    EXPECT_TRUE(std::isinf(loaded.training.best_valid_loss));
    const Seq2Seq rebuilt = model_from_checkpoint(loaded);
    EXPECT_TRUE(bits_equal(rebuilt.parameters(), model.parameters()));
    EXPECT_EQ(rebuilt.optimizer_step(), model.optimizer_step());
    EXPECT_EQ(rebuilt.optimizer_state().size(), k.state_tensors);
  }
}

TEST(CheckpointRoundTrip, FeatureModelWithEmptyVocabularies) {
  ModelConfig config;
  config.cell = CellType::rnn;
  config.hidden_size = 4;
  config.mode = DecoderMode::repeat;
  config.input = InputKind::features;
  config.source_features = 3;
  config.output = OutputKind::features;
  config.target_features = 2;
  config.max_target_length = 5;
  Seq2Seq model(config, 9);
  const CheckpointData saved = checkpoint_of(model, {}, {}, sample_training());
  const CheckpointData loaded = parse_checkpoint(checkpoint_bytes(saved), "memory");
  expect_same(saved, loaded);
  EXPECT_TRUE(loaded.source_vocab.symbols().empty());
  EXPECT_ERROR_WITH(checkpoint_of(model, sample_data().source_vocab, {}, {}), "source features",
                    "empty");
}

TEST(CheckpointFormat, TensorsAndMetadataAsDocumented) {
  const CheckpointData saved = trained_checkpoint();
  const std::string bytes = checkpoint_bytes(saved);
  const SafetensorsFile file = SafetensorsFile::parse(bytes, "memory");

  // Header padded to 8 bytes; data in the order written: parameters, then m, then v.
  std::uint64_t header_length = 0;
  std::memcpy(&header_length, bytes.data(), 8);
  EXPECT_EQ(header_length % 8, 0u);
  const auto layout = parameter_layout(saved.config);
  std::vector<std::string> expected_order;
  for (const auto& info : layout) expected_order.push_back(info.name);
  for (const char* state : {"m", "v"})
    for (const auto& info : layout)
      expected_order.push_back(std::string("optimizer.") + state + "." + info.name);
  std::vector<std::string> order;
  for (const auto& e : file.entries()) {
    order.push_back(e.name);
    EXPECT_EQ(e.dtype, "F32");
  }
  EXPECT_EQ(order, expected_order);
  EXPECT_EQ(file.find("optimizer.v.decoder.out.weight")->shape,
            file.find("decoder.out.weight")->shape);

  // Metadata values are JSON texts.
  const auto& meta = file.metadata();
  EXPECT_EQ(meta.at("format"), "\"s2s-checkpoint-2\"");
  EXPECT_EQ(meta.at("s2s_version"), "\"" S2S_TEST_VERSION "\"");
  EXPECT_EQ(nlohmann::json::parse(meta.at("special_tokens")),
            nlohmann::json::parse(R"({"pad":0,"start":1,"end":2,"unknown":null})"));
  EXPECT_EQ(nlohmann::json::parse(meta.at("decoder")).at("mode"), "teacher_forcing");
  const auto config = nlohmann::json::parse(meta.at("config"));
  EXPECT_EQ(config.at("cell"), "lstm");
  EXPECT_EQ(config.at("input"), "embedding");
  EXPECT_EQ(config.at("mode"), "teacher_forcing");
  EXPECT_EQ(config.at("hidden_size"), 5);
  EXPECT_EQ(config.at("attention"), "none");
  EXPECT_EQ(config.at("input_feed"), false);
  EXPECT_EQ(config.at("bidirectional"), false);
  EXPECT_EQ(config.at("bridge"), "sum");
  EXPECT_EQ(config.at("dropout"), 0.0);
  EXPECT_EQ(config.size(), 17u);
  EXPECT_EQ(nlohmann::json::parse(meta.at("source_vocab")).get<std::vector<std::string>>(),
            saved.source_vocab.symbols());
  const auto optimizer = nlohmann::json::parse(meta.at("optimizer"));
  EXPECT_EQ(optimizer.at("kind"), "adam");
  EXPECT_EQ(optimizer.at("step"), 3);
  EXPECT_EQ(optimizer.at("clip_norm"), 1.5);
  const auto training = nlohmann::json::parse(meta.at("training"));
  EXPECT_EQ(training.at("step"), 1234567890123);
  // Format 2: the data description is its own key, JSON text, not a string inside "training".
  EXPECT_EQ(training.count("data_json"), 0u);
  EXPECT_EQ(meta.at("data"), sample_training().data_json);

  // No validation loss yet: null, read back as infinity.
  CheckpointData fresh = saved;
  fresh.training.best_valid_loss = std::numeric_limits<double>::infinity();
  const SafetensorsFile fresh_file = SafetensorsFile::parse(checkpoint_bytes(fresh), "memory");
  EXPECT_TRUE(
      nlohmann::json::parse(fresh_file.metadata().at("training")).at("best_valid_loss").is_null());
  // Without an optimizer there is no optimizer metadata and no optimizer tensor.
  CheckpointData bare = saved;
  bare.has_optimizer = false;
  bare.optimizer_state.clear();
  const SafetensorsFile bare_file = SafetensorsFile::parse(checkpoint_bytes(bare), "memory");
  EXPECT_EQ(bare_file.metadata().count("optimizer"), 0u);
  EXPECT_EQ(bare_file.entries().size(), layout.size());
}

TEST(Safetensors, WriterAndReaderAgreeOnEveryDtype) {
  const std::string bytes_of_32(32, '\x5a');
  std::vector<SafetensorsTensorRef> tensors;
  for (const std::string dtype : {"F32", "F64", "F16", "BF16", "I32", "I64", "U8"}) {
    const std::int64_t n = 32 / static_cast<std::int64_t>(safetensors_dtype_size(dtype));
    tensors.push_back({"t_" + dtype, dtype, {2, n / 2}, bytes_of_32.data(), 32});
  }
  tensors.push_back({"empty", "F32", {0, 5}, nullptr, 0});
  const std::string bytes = safetensors_bytes(tensors, {{"note", "ünï"}});
  const SafetensorsFile file = SafetensorsFile::parse(bytes, "memory");
  EXPECT_EQ(file.metadata().at("note"), "ünï");
  ASSERT_EQ(file.entries().size(), tensors.size());
  for (const auto& t : tensors) {
    const SafetensorsEntry* e = file.find(t.name);
    ASSERT_NE(e, nullptr) << t.name;
    EXPECT_EQ(e->dtype, t.dtype);
    EXPECT_EQ(e->shape, t.shape);
    EXPECT_EQ(std::string(file.data(*e), e->end - e->begin),
              std::string(static_cast<const char*>(t.data), t.byte_size));
  }
  EXPECT_ERROR_WITH(safetensors_bytes({{"a", "F32", {3}, bytes_of_32.data(), 8}}, {}), "'a'",
                    "8 bytes given", "needs 12");
  EXPECT_ERROR_WITH(safetensors_bytes({{"a", "Q7", {1}, bytes_of_32.data(), 1}}, {}),
                    "unknown dtype 'Q7'", "F32");
}

// ---- Exact resumption. ----

TEST(CheckpointResume, TrainingContinuesBitIdentically) {
  const TokenDataset data = sample_data();
  for (const OptimizerKind kind : {OptimizerKind::adam, OptimizerKind::sgd}) {
    SCOPED_TRACE(to_string(kind));
    OptimizerConfig optimizer;
    optimizer.kind = kind;
    optimizer.learning_rate = kind == OptimizerKind::adam ? 0.01 : 0.2;
    optimizer.momentum = kind == OptimizerKind::sgd ? 0.9 : 0.0;
    optimizer.decay = 0.01;  // the rate depends on the step, which must be restored too
    const int first = 4, second = 5;

    Seq2Seq straight(token_config(data), 5);
    straight.set_optimizer(optimizer);
    train(straight, data, 0, first + second);

    Seq2Seq before(token_config(data), 5);
    before.set_optimizer(optimizer);
    train(before, data, 0, first);
    TempFolder folder;
    const std::string path = folder.file("resume.safetensors");
    save_checkpoint(path, checkpoint_of(before, data.source_vocab, data.target_vocab, {}));
    Seq2Seq resumed = model_from_checkpoint(load_checkpoint(path));
    EXPECT_EQ(resumed.optimizer_step(), first);
    train(resumed, data, first, second);

    EXPECT_EQ(resumed.optimizer_step(), straight.optimizer_step());
    EXPECT_TRUE(bits_equal(resumed.parameters(), straight.parameters()));
    const auto a = resumed.optimizer_state(), b = straight.optimizer_state();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(bits_equal(a[i].second, b[i].second));
    // And the run did move: a resumed model that silently restarted would differ.
    EXPECT_FALSE(bits_equal(before.parameters(), straight.parameters()));
  }
}

// ---- Bad safetensors framing. ----

// The bytes must be refused, naming the source and every fragment.
#define EXPECT_REFUSED(bytes, ...) \
  EXPECT_ERROR_WITH(parse_checkpoint(bytes, "bad.safetensors"), "bad.safetensors", __VA_ARGS__)

TEST(CheckpointRefuses, TruncatedFiles) {
  const std::string good = checkpoint_bytes(trained_checkpoint());
  EXPECT_REFUSED(good.substr(0, 5), "5 bytes", "fewer than the 8-byte header length");
  EXPECT_REFUSED(good.substr(0, 100), "only 92 bytes follow", "truncated");
  EXPECT_REFUSED(good.substr(0, good.size() - 4), "ends beyond the data section", "truncated");
  EXPECT_REFUSED(std::string(), "0 bytes");
  // Through a file too.
  TempFolder folder;
  write_bytes(folder.file("cut.safetensors"), good.substr(0, good.size() / 2));
  EXPECT_ERROR_WITH(load_checkpoint(folder.file("cut.safetensors")), "cut.safetensors",
                    "truncated");
  EXPECT_ERROR_WITH(load_checkpoint(folder.file("absent.safetensors")), "absent.safetensors",
                    "No such file");
  EXPECT_ERROR_WITH(load_checkpoint(folder.path().string()), "is a folder",
                    "allowed: a regular file");
}

TEST(CheckpointRefuses, TextThatIsNotSafetensors) {
  EXPECT_REFUSED("Hello, this is a text file, not a checkpoint.\n", "header length",
                 "at most 100000000");
  EXPECT_REFUSED(framed("this is not json"), "header is not valid UTF-8 JSON");
  EXPECT_REFUSED(framed("[1, 2, 3]"), "the header is a JSON array", "object");
  EXPECT_REFUSED(framed("{\"a\": \"\xff\"}"), "not valid UTF-8 JSON");
  // Deep nesting must be refused, not overflow the stack.
  EXPECT_REFUSED(framed(std::string(200000, '[') + std::string(200000, ']')),
                 "nests arrays or objects more than 64 levels deep");
  EXPECT_REFUSED(framed("{\"a\": " + std::string(200000, '[') + std::string(200000, ']') + "}"),
                 "the header nests arrays or objects more than 64", "allowed: at most 64");
}

TEST(CheckpointRefuses, HeaderLengths) {
  EXPECT_REFUSED(framed_as(1000, "{}", ""), "header length is 1000 bytes", "only 2 bytes follow");
  EXPECT_REFUSED(framed_as(1ull << 63, "{}", ""), "header length is 9223372036854775808",
                 "at most 100000000");
  EXPECT_REFUSED(framed_as(~0ull, "{}", ""), "at most 100000000");
  EXPECT_REFUSED(framed_as(100000001, "{}", ""), "at most 100000000");
}

TEST(CheckpointRefuses, DuplicateKeys) {
  const std::string entry = R"({"dtype":"U8","shape":[1],"data_offsets":[0,1]})";
  EXPECT_REFUSED(framed("{\"a\":" + entry + ",\"a\":" + entry + "}", "x"), "repeats the key 'a'",
                 "once");
  EXPECT_REFUSED(
      framed(R"({"a":{"dtype":"U8","shape":[1],"shape":[1],"data_offsets":[0,1]}})", "x"),
      "repeats the key 'shape'");
  EXPECT_REFUSED(framed(R"({"__metadata__":{"k":"1","k":"2"}})"), "repeats the key 'k'");
}

TEST(CheckpointRefuses, OffsetsThatDoNotTileTheData) {
  const auto two = [](const std::string& a, const std::string& b) {
    return "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":" + a +
           "},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":" + b + "}}";
  };
  EXPECT_REFUSED(framed(two("[0,8]", "[4,12]"), std::string(12, '\0')),
                 "tensor 'b' at bytes [4, 12) overlaps tensor 'a' at [0, 8)", "tile");
  EXPECT_REFUSED(framed(two("[0,8]", "[0,8]"), std::string(8, '\0')), "overlaps");
  EXPECT_REFUSED(framed(two("[0,8]", "[12,20]"), std::string(20, '\0')),
                 "gap of 4 bytes before tensor 'b'", "tile");
  EXPECT_REFUSED(framed(two("[4,12]", "[12,20]"), std::string(20, '\0')),
                 "gap of 4 bytes before tensor 'a'", "must begin at 0");
  EXPECT_REFUSED(framed(two("[0,8]", "[8,16]"), std::string(20, '\0')),
                 "4 trailing bytes after the last tensor");
  EXPECT_REFUSED(framed("{}", "xyz"), "3 trailing bytes");
  EXPECT_REFUSED(framed(two("[0,8]", "[8,16]"), std::string(12, '\0')),
                 "tensor 'b' at bytes [8, 16) ends beyond the data section, which has 12 bytes");
  // Offsets near 2^64 must not wrap around.
  EXPECT_REFUSED(
      framed(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}})"),
      "end before they begin");
  EXPECT_REFUSED(
      framed(
          R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,18446744073709551616]}})"),
      "data_offsets", "two non-negative integers");
}

TEST(CheckpointRefuses, BadEntries) {
  const auto one = [](const std::string& fields) {
    return framed("{\"a\":{" + fields + "}}", "1234");
  };
  EXPECT_REFUSED(one(R"("dtype":"F33","shape":[1],"data_offsets":[0,4])"), "tensor 'a'",
                 "unknown dtype 'F33'", "F32, F64");
  EXPECT_REFUSED(one(R"("dtype":"F32","shape":[-1],"data_offsets":[0,4])"),
                 "shape entry -1 is not a non-negative integer");
  EXPECT_REFUSED(one(R"("dtype":"F32","shape":[1.0],"data_offsets":[0,4])"),
                 "not a non-negative integer");
  EXPECT_REFUSED(one(R"("dtype":"F32","shape":"[1]","data_offsets":[0,4])"),
                 "shape is a JSON string");
  EXPECT_REFUSED(one(R"("dtype":"F32","shape":[2],"data_offsets":[0,4])"),
                 "shape [2] of F32 needs 8 bytes, but data_offsets [0, 4] hold 4");
  EXPECT_REFUSED(
      one(R"("dtype":"F32","shape":[16777216,16777216,16777216,16777216],"data_offsets":[0,4])"),
      "larger than any file");
  EXPECT_REFUSED(one(R"("dtype":"F32","shape":[1])"), "no data_offsets field");
  EXPECT_REFUSED(one(R"("dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1)"),
                 "unexpected field 'extra'", "allowed: dtype, shape, data_offsets");
  EXPECT_REFUSED(framed(R"({"a":[1,2]})"), "the entry is a JSON array");
  EXPECT_REFUSED(framed(R"({"__metadata__":{"k":1}})"), "__metadata__ value 'k'", "strings only");
  EXPECT_REFUSED(framed(R"({"__metadata__":[]})"), "__metadata__ is a JSON array");
  // Dimensions beyond int64 are refused, and so are those beyond limits::kMaxTensorDimension
  // even in a zero-size tensor; a zero-size tensor with a dimension at the limit is fine.
  EXPECT_REFUSED(
      framed(R"({"a":{"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,0]}})"),
      "shape entry 18446744073709551615 is not a non-negative integer");
  EXPECT_REFUSED(
      framed(R"({"a":{"dtype":"F32","shape":[9223372036854775807,0],"data_offsets":[0,0]}})"),
      "shape entry 9223372036854775807 is larger than 16777216");
  EXPECT_NO_THROW(SafetensorsFile::parse(
      framed(R"({"a":{"dtype":"F32","shape":[16777216,0],"data_offsets":[0,0]}})"), "x"));
}

// ---- Bad checkpoint contents (valid safetensors). ----

struct OwnedTensor {
  std::string name, dtype;
  Shape shape;
  std::string bytes;
};

// A valid checkpoint's tensors and metadata, edited, written back.
std::string edited(
    const std::function<void(std::vector<OwnedTensor>&, SafetensorsMetadata&)>& edit) {
  const SafetensorsFile file = SafetensorsFile::parse(checkpoint_bytes(trained_checkpoint()), "x");
  std::vector<OwnedTensor> tensors;
  for (const auto& e : file.entries())
    tensors.push_back({e.name, e.dtype, e.shape, std::string(file.data(e), e.end - e.begin)});
  SafetensorsMetadata metadata = file.metadata();
  edit(tensors, metadata);
  std::vector<SafetensorsTensorRef> refs;
  for (const auto& t : tensors)
    refs.push_back({t.name, t.dtype, t.shape, t.bytes.data(), t.bytes.size()});
  return safetensors_bytes(refs, metadata);
}

OwnedTensor& tensor_named(std::vector<OwnedTensor>& tensors, const std::string& name) {
  for (auto& t : tensors)
    if (t.name == name) return t;
  throw std::runtime_error("no tensor " + name);
}

void set_json_field(SafetensorsMetadata& metadata, const std::string& key, const std::string& field,
                    const nlohmann::json& value) {
  auto j = nlohmann::json::parse(metadata.at(key));
  j[field] = value;
  metadata[key] = j.dump();
}

TEST(CheckpointRefuses, WrongDtypeForAParameter) {
  EXPECT_REFUSED(edited([](auto& tensors, auto&) {
                   auto& t = tensor_named(tensors, "encoder.rnn.weight_hh_l1");
                   t.dtype = "F64";
                   t.bytes += t.bytes;  // same shape, 8 bytes per element
                 }),
                 "tensor 'encoder.rnn.weight_hh_l1' has dtype F64", "allowed: F32");
}

TEST(CheckpointRefuses, WrongShapeForTheConfig) {
  // The config says hidden_size 6, the tensors were made for 5.
  EXPECT_REFUSED(
      edited([](auto&, auto& metadata) { set_json_field(metadata, "config", "hidden_size", 6); }),
      "tensor 'encoder.rnn.weight_ih_l0' has shape [20, 3], the config needs [24, 3]");
  // A tensor reshaped behind the config's back (same byte count).
  EXPECT_REFUSED(edited([](auto& tensors, auto&) {
                   tensor_named(tensors, "decoder.out.weight").shape = {5, 8};
                 }),
                 "tensor 'decoder.out.weight' has shape [5, 8], the config needs [8, 5]");
}

TEST(CheckpointRefuses, MissingOrBadMetadata) {
  EXPECT_REFUSED(edited([](auto&, auto& m) { m.erase("config"); }), "no 'config'", "__metadata__");
  EXPECT_REFUSED(edited([](auto&, auto& m) { m.erase("format"); }), "not an s2s checkpoint",
                 "s2s-checkpoint-2");
  EXPECT_REFUSED(edited([](auto&, auto& m) { m["format"] = "\"s2s-checkpoint-9\""; }),
                 "s2s-checkpoint-9",
                 "this version reads \"s2s-checkpoint-2\" and \"s2s-checkpoint-1\"");
  EXPECT_REFUSED(edited([](auto&, auto& m) { m["config"] = "{\"cell\": "; }),
                 "'config' is not valid UTF-8 JSON");
  EXPECT_REFUSED(edited([](auto&, auto& m) { set_json_field(m, "config", "hidden_size", 0); }),
                 "'config'", "hidden_size is 0", "allowed: 1 to");
  EXPECT_REFUSED(edited([](auto&, auto& m) { set_json_field(m, "config", "cell", "tree"); }),
                 "'config'", "unknown cell type 'tree'", "lstm");
  EXPECT_REFUSED(edited([](auto&, auto& m) { set_json_field(m, "config", "layers", 1.5); }),
                 "layers is 1.5", "an integer");
  EXPECT_REFUSED(edited([](auto&, auto& m) { set_json_field(m, "config", "colour", "red"); }),
                 "unknown field 'colour'");
  EXPECT_REFUSED(
      edited([](auto&, auto& m) { m["config"] = "{\"cell\":\"lstm\",\"cell\":\"gru\"}"; }),
      "'config' repeats the key 'cell'");
  EXPECT_REFUSED(edited([](auto&, auto& m) {
                   m["source_vocab"] = "[\"a\", \"b\"]";  // the config says 8 tokens
                 }),
                 "source vocabulary has 5 tokens", "source_vocab_size is");
  EXPECT_REFUSED(edited([](auto&, auto& m) { m["target_vocab"] = "[\"a\", \"a\"]"; }),
                 "'target_vocab'", "appears twice");
  EXPECT_REFUSED(edited([](auto&, auto& m) { set_json_field(m, "optimizer", "beta1", 1.5); }),
                 "'optimizer'", "beta1");
  EXPECT_REFUSED(edited([](auto&, auto& m) { set_json_field(m, "training", "step", -1); }),
                 "'training'", "step is -1");
  EXPECT_REFUSED(edited([](auto&, auto& m) { m.erase("training"); }), "no 'training'");
}

TEST(CheckpointRefuses, MissingAndUnexpectedTensors) {
  EXPECT_REFUSED(edited([](auto& tensors, auto&) {
                   tensors.erase(std::find_if(tensors.begin(), tensors.end(), [](auto& t) {
                     return t.name == "decoder.out.bias";
                   }));
                 }),
                 "missing tensor 'decoder.out.bias'", "F32 [8]");
  EXPECT_REFUSED(edited([](auto& tensors, auto&) {
                   tensors.erase(std::find_if(tensors.begin(), tensors.end(), [](auto& t) {
                     return t.name == "optimizer.v.encoder.embedding.weight";
                   }));
                 }),
                 "missing tensor 'optimizer.v.encoder.embedding.weight'");
  EXPECT_REFUSED(edited([](auto& tensors, auto&) {
                   tensors.push_back({"encoder.rnn.weight_ih_l7", "F32", {1}, "abcd"});
                 }),
                 "unexpected tensor 'encoder.rnn.weight_ih_l7'");
  EXPECT_REFUSED(edited([](auto&, auto& m) { m.erase("optimizer"); }),
                 "optimizer tensor 'optimizer.m.", "no 'optimizer' in the __metadata__");
  EXPECT_REFUSED(edited([](auto&, auto& m) { set_json_field(m, "optimizer", "kind", "sgd"); }),
                 "unexpected tensor 'optimizer.m.");  // SGD without momentum keeps no state
}

TEST(CheckpointRefuses, NonFiniteValues) {
  EXPECT_REFUSED(edited([](auto& tensors, auto&) {
                   const float nan = std::numeric_limits<float>::quiet_NaN();
                   std::memcpy(&tensor_named(tensors, "decoder.rnn.bias_hh_l0").bytes[8], &nan, 4);
                 }),
                 "tensor 'decoder.rnn.bias_hh_l0' holds nan at index 2");
  EXPECT_REFUSED(edited([](auto& tensors, auto&) {
                   const float inf = std::numeric_limits<float>::infinity();
                   std::memcpy(&tensor_named(tensors, "optimizer.m.decoder.out.bias").bytes[0],
                               &inf, 4);
                 }),
                 "tensor 'optimizer.m.decoder.out.bias' holds inf at index 0");
}

// ---- Saving: failures leave nothing behind and never damage an existing file. ----

TEST(CheckpointSave, FolderThatDoesNotExist) {
  TempFolder folder;
  const std::string path = folder.file("missing/sub/model.safetensors");
  const std::string problem = "the folder '" + folder.file("missing/sub") + "' does not exist";
  EXPECT_ERROR_WITH(save_checkpoint(path, trained_checkpoint()), path.c_str(), problem.c_str());
  EXPECT_TRUE(folder.listing().empty());
}

TEST(CheckpointSave, FolderThatIsARegularFile) {
  TempFolder folder;
  write_bytes(folder.file("plain"), "just a file");
  const std::string path = folder.file("plain/model.safetensors");
  EXPECT_ERROR_WITH(save_checkpoint(path, trained_checkpoint()), path.c_str(), "is not a folder");
  EXPECT_EQ(folder.listing(), std::vector<std::string>{"plain"});
  EXPECT_EQ(read_bytes(folder.file("plain")), "just a file");
}

TEST(CheckpointSave, UnwritableFolder) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only folders";
  TempFolder folder;
  fs::create_directory(folder.file("locked"));
  fs::permissions(folder.file("locked"), fs::perms::owner_read | fs::perms::owner_exec);
  const std::string path = folder.file("locked/model.safetensors");
  EXPECT_ERROR_WITH(save_checkpoint(path, trained_checkpoint()), path.c_str(), "Permission denied");
  fs::permissions(folder.file("locked"), fs::perms::owner_all);
  EXPECT_TRUE(fs::is_empty(folder.file("locked")));
}

TEST(CheckpointSave, PathThatIsAFolder) {
  TempFolder folder;
  fs::create_directory(folder.file("model.safetensors"));
  EXPECT_ERROR_WITH(save_checkpoint(folder.file("model.safetensors"), trained_checkpoint()),
                    "renaming", "Is a directory");
  EXPECT_EQ(folder.listing(), std::vector<std::string>{"model.safetensors"});
}

// Restores the file-size limit and SIGXFSZ handling however the test ends.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    saved_handler_ = ::signal(SIGXFSZ, SIG_IGN);  // writes then fail with EFBIG instead
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ok_ = ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, saved_handler_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  void (*saved_handler_)(int) = nullptr;
  bool ok_ = false;
};

TEST(CheckpointSave, FailedSaveLeavesTheExistingCheckpointIntact) {
  TempFolder folder;
  const std::string path = folder.file("model.safetensors");
  const CheckpointData original = trained_checkpoint();
  save_checkpoint(path, original);
  const std::string original_bytes = read_bytes(path);

  CheckpointData newer = original;
  newer.training.epoch += 1;
  for (float& p : newer.parameters) p *= 0.5f;

  // 1. The disk "fills up" mid-write: the temporary file is removed, the old file stays.
  {
    FileSizeLimit limit(64);
    ASSERT_TRUE(limit.ok());
    EXPECT_ERROR_WITH(save_checkpoint(path, newer), path.c_str(), "writing", "File too large");
  }
  EXPECT_EQ(folder.listing(), std::vector<std::string>{"model.safetensors"});
  EXPECT_EQ(read_bytes(path), original_bytes);
  expect_same(load_checkpoint(path), original);

  // 2. The temporary file cannot be created.
  fs::create_directory(path + ".tmp-" + std::to_string(::getpid()));
  EXPECT_ERROR_WITH(save_checkpoint(path, newer), path.c_str(), "cannot create", "Is a directory");
  fs::remove(path + ".tmp-" + std::to_string(::getpid()));
  EXPECT_EQ(read_bytes(path), original_bytes);

  // 3. Data the loader would refuse is never written.
  CheckpointData broken = newer;
  broken.parameters[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_ERROR_WITH(save_checkpoint(path, broken), path.c_str(), "holds nan at index");
  broken = newer;
  broken.training.data_json = "\xff";
  EXPECT_ERROR_WITH(save_checkpoint(path, broken), "data_json", "invalid UTF-8");
  broken = newer;
  broken.parameters.pop_back();
  EXPECT_ERROR_WITH(save_checkpoint(path, broken), "parameters given");
  EXPECT_EQ(read_bytes(path), original_bytes);
  EXPECT_EQ(folder.listing(), std::vector<std::string>{"model.safetensors"});

  // A save that succeeds replaces the file.
  save_checkpoint(path, newer);
  expect_same(load_checkpoint(path), newer);
  EXPECT_EQ(folder.listing(), std::vector<std::string>{"model.safetensors"});
}

TEST(CheckpointSave, RelativePathInTheCurrentFolder) {
  TempFolder folder;
  const fs::path before = fs::current_path();
  fs::current_path(folder.path());
  try {
    save_checkpoint("here.safetensors", trained_checkpoint());
    EXPECT_NO_THROW(load_checkpoint("here.safetensors"));
  } catch (...) {
    fs::current_path(before);
    throw;
  }
  fs::current_path(before);
  EXPECT_EQ(folder.listing(), std::vector<std::string>{"here.safetensors"});
}

}  // namespace
}  // namespace s2s
