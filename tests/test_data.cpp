// Vocabularies, UTF-8, the built-in tasks, pair files and batching.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

#include "expect_error.h"
#include "s2s/batch.h"
#include "s2s/error.h"
#include "s2s/tasks.h"
#include "s2s/vocab.h"

namespace s2s {
namespace {

TEST(Vocabulary, SymbolsInCodePointOrderAfterTheSpecials) {
  const Vocabulary v = Vocabulary::from_texts({"ba", "cé", "a"});
  ASSERT_EQ(v.size(), 3 + 4);
  EXPECT_EQ(v.symbols(), (std::vector<std::string>{"a", "b", "c", "é"}));
  EXPECT_EQ(v.encode("abé"), (std::vector<std::int32_t>{3, 4, 6}));
  EXPECT_EQ(v.decode({1, 3, 6, 2, 4}), "aé");
  EXPECT_EQ(v.symbol(Vocabulary::end_id), "</s>");
}

TEST(Vocabulary, UnknownCharacterIsNamedWithItsPosition) {
  const Vocabulary v = Vocabulary::from_texts({"0123456789"});
  EXPECT_ERROR_WITH(v.encode("12x4"), "'x'", "position 3");
}

TEST(Utf8, SplitsMultiByteAndRejectsInvalid) {
  EXPECT_EQ(utf8_characters("a€😀"), (std::vector<std::string>{"a", "€", "😀"}));
  EXPECT_ERROR_WITH(utf8_characters("ab\xff"), "invalid UTF-8", "byte 3");
  EXPECT_ERROR_WITH(utf8_characters("\xc0\xaf"), "invalid UTF-8");  // overlong '/'
  EXPECT_ERROR_WITH(utf8_characters("\xe2\x82"), "invalid UTF-8");  // truncated
}

TEST(Tasks, DigitsWordsIsTheSeedsNinePairs) {
  const auto pairs = generate_task("digits-words", {});
  ASSERT_EQ(pairs.size(), 9u);
  EXPECT_EQ(pairs[0].input, "1");
  EXPECT_EQ(pairs[0].target, "one");
  EXPECT_EQ(pairs[8].target, "nine");
}

TEST(Tasks, AdditionIsKerasShapedAndCorrect) {
  TaskOptions o;
  o.digits = 3;
  o.reverse = true;
  o.size = 2000;
  o.seed = 5;
  const auto pairs = generate_task("addition", o);
  ASSERT_EQ(pairs.size(), 2000u);
  std::set<std::pair<long, long>> seen;
  for (const auto& p : pairs) {
    ASSERT_EQ(p.input.size(), 7u);
    ASSERT_EQ(p.target.size(), 4u);
    std::string q(p.input.rbegin(), p.input.rend());  // undo the reversal
    const auto plus = q.find('+');
    ASSERT_NE(plus, std::string::npos) << q;
    const long a = std::stol(q.substr(0, plus)), b = std::stol(q.substr(plus + 1));
    EXPECT_EQ(std::stol(p.target), a + b) << q;
    EXPECT_TRUE(seen.insert({std::min(a, b), std::max(a, b)}).second) << "repeated " << q;
  }
  EXPECT_EQ(generate_task("addition", o)[17].input, pairs[17].input) << "same seed, same data";
}

TEST(Tasks, SubtractionAndPqAndReverse) {
  TaskOptions o;
  o.size = 300;
  const auto sub = generate_task("subtraction", o);
  for (const auto& p : sub) {
    const auto minus = p.input.find('-');
    const long a = std::stol(p.input.substr(0, minus)), b = std::stol(p.input.substr(minus + 1));
    EXPECT_EQ(std::stol(p.target), a - b);
    EXPECT_EQ(p.input.size(), 11u);
    EXPECT_EQ(p.target.size(), 6u);
  }
  o.max_dashes = 7;
  o.size = 20;
  o.form = TaskForm::padded;  // the seed's form (the natural one: test_presentation.cpp)
  for (const auto& p : generate_task("pq", o)) {
    const auto at = p.input.find('p');
    const auto end = p.input.find(' ');
    const std::size_t b = (end == std::string::npos ? p.input.size() : end) - at - 1;
    EXPECT_EQ(p.target.substr(0, 1 + at + b), "q" + std::string(at + b, '-'));
    EXPECT_EQ(p.input.size(), 15u);
  }
  o.digits = 5;
  o.form = TaskForm::automatic;
  for (const auto& p : generate_task("reverse", o))
    EXPECT_EQ(p.target, std::string(p.input.rbegin(), p.input.rend()));
}

TEST(Tasks, DefaultsFitTheDistinctQuestions) {
  TaskOptions o;
  o.max_dashes = 10;
  EXPECT_EQ(task_defaults("pq", o).size, 55);
  EXPECT_EQ(generate_task("pq", o).size(), 55u);
  o.size = 56;
  EXPECT_ERROR_WITH(generate_task("pq", o), "56", "55 distinct");
  EXPECT_ERROR_WITH(generate_task("multiplication", {}), "unknown task", "addition");
  TaskOptions bad;
  bad.digits = -1;
  EXPECT_ERROR_WITH(generate_task("addition", bad), "digits is -1");
}

TEST(Pairs, ParsesTabSeparatedLinesIgnoringExtraColumns) {
  std::istringstream in("Go.\tVa !\tCC-BY 2.0\r\n\nHi.\tSalut !\n");
  const auto pairs = parse_pairs(in, "fra.txt");
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].input, "Go.");
  EXPECT_EQ(pairs[0].target, "Va !");
  EXPECT_EQ(pairs[1].target, "Salut !");
}

TEST(Pairs, BadLinesAreNamed) {
  std::istringstream missing_tab("a\tb\nno tab here\n");
  EXPECT_ERROR_WITH(parse_pairs(missing_tab, "f.tsv"), "f.tsv:2", "no tab");
  std::istringstream empty_target("a\tb\nc\t\n");
  EXPECT_ERROR_WITH(parse_pairs(empty_target, "f.tsv"), "f.tsv:2", "target", "empty");
  std::istringstream bad_utf8("a\tb\nc\t\xff\n");
  EXPECT_ERROR_WITH(parse_pairs(bad_utf8, "f.tsv"), "f.tsv:2", "UTF-8");
  std::istringstream empty("");
  EXPECT_ERROR_WITH(parse_pairs(empty, "f.tsv"), "f.tsv", "empty");
  EXPECT_ERROR_WITH(read_pairs("/nonexistent/pairs.tsv"), "/nonexistent/pairs.tsv",
                    "cannot open");
}

TEST(Batch, TimeMajorPaddedWithEndTokens) {
  const Batch b = make_token_batch({{3, 4, 5}, {6}}, {{7}, {8, 9}});
  EXPECT_EQ(b.batch_size, 2);
  EXPECT_EQ(b.source_length, 3);
  EXPECT_EQ(b.source_tokens, (std::vector<std::int32_t>{3, 6, 4, 0, 5, 0}));
  EXPECT_EQ(b.source_lengths, (std::vector<std::int32_t>{3, 1}));
  EXPECT_EQ(b.target_length, 3);
  EXPECT_EQ(b.target_tokens, (std::vector<std::int32_t>{7, 8, 2, 9, 0, 2}));
  EXPECT_EQ(b.target_lengths, (std::vector<std::int32_t>{2, 3}));
}

TEST(Batch, FeatureBatchesAndMismatchedSides) {
  Batch b;
  set_source_features(b, {{1, 2, 3, 4}, {5, 6}}, 2);
  EXPECT_EQ(b.source_lengths, (std::vector<std::int32_t>{2, 1}));
  EXPECT_EQ(b.source_features, (std::vector<double>{1, 2, 5, 6, 3, 4, 0, 0}));
  EXPECT_ERROR_WITH(set_target_features(b, {{1.0}}, 1), "1 sequences", "batch of 2");
  Batch c;
  EXPECT_ERROR_WITH(set_source_features(c, {{1, 2, 3}}, 2), "not a multiple of 2");
  EXPECT_ERROR_WITH(make_token_batch({{3}, {}}, {}), "sequence 1 is empty");
}

TEST(Dataset, EncodesWithGivenVocabulariesOrBuildsThem) {
  const auto data = encode_pairs({{"12", "ab"}, {"3", "c"}});
  EXPECT_EQ(data.source_vocab.size(), 6);
  EXPECT_EQ(data.targets[1], (std::vector<std::int32_t>{5}));
  EXPECT_ERROR_WITH(encode_pairs({{"19", "a"}}, data.source_vocab, data.target_vocab),
                    "pair 1", "'9'");
  const Batch batch = make_batch(data, {1, 0}, 0, 2);
  EXPECT_EQ(batch.source_lengths, (std::vector<std::int32_t>{1, 2}));
}

}  // namespace
}  // namespace s2s
