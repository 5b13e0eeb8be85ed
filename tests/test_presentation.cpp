// The natural and padded presentations of the generated tasks, their record in a checkpoint's
// data_json (old records without it read as padded), the curriculum's stage list, and what a
// warm start (--init) accepts.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/curriculum.h"
#include "cli/data_spec.h"
#include "cli/warm_start.h"
#include "expect_error.h"
#include "s2s/checkpoint.h"
#include "s2s/tasks.h"

namespace s2s {
namespace {

TEST(TaskForm, PqIsNaturalByDefaultAndPaddedOnRequestWithTheSameOperands) {
  TaskOptions o;
  o.max_dashes = 30;
  o.size = 200;
  const auto natural = generate_task("pq", o);
  EXPECT_EQ(task_defaults("pq", o).form, TaskForm::natural);
  o.form = TaskForm::padded;
  const auto padded = generate_task("pq", o);
  ASSERT_EQ(natural.size(), padded.size());
  for (std::size_t i = 0; i < natural.size(); ++i) {
    const std::string& q = natural[i].input;
    ASSERT_EQ(q.find(' '), std::string::npos) << q;
    const std::size_t p = q.find('p');
    ASSERT_NE(p, std::string::npos);
    const std::size_t a = p, b = q.size() - p - 1;
    EXPECT_EQ(q, std::string(a, '-') + "p" + std::string(b, '-'));
    EXPECT_EQ(natural[i].target, "q" + std::string(a + b, '-'));
    // The padded pair is the natural one, space-padded to 2N+1 = 61.
    EXPECT_EQ(padded[i].input, q + std::string(61 - q.size(), ' '));
    EXPECT_EQ(padded[i].target, natural[i].target + std::string(61 - natural[i].target.size(), ' '));
  }
}

TEST(TaskForm, AdditionStaysPaddedByDefaultAndCopyHasNoPaddedForm) {
  TaskOptions o;
  o.digits = 2;
  o.size = 50;
  o.reverse = true;
  EXPECT_EQ(task_defaults("addition", o).form, TaskForm::padded);
  for (const auto& p : generate_task("addition", o)) EXPECT_EQ(p.input.size(), 5u);
  o.form = TaskForm::natural;
  for (const auto& p : generate_task("addition", o)) {
    EXPECT_EQ(p.input.find(' '), std::string::npos);
    EXPECT_EQ(p.target.find(' '), std::string::npos);
    // Reversed: the '+' is not first and the text read backwards is "a+b".
    const std::string forward(p.input.rbegin(), p.input.rend());
    const auto plus = forward.find('+');
    EXPECT_EQ(std::stol(forward.substr(0, plus)) + std::stol(forward.substr(plus + 1)),
              std::stol(p.target));
  }
  TaskOptions c;
  c.form = TaskForm::padded;
  EXPECT_ERROR_WITH(generate_task("copy", c), "copy has no padded form", "addition, subtraction and pq");
  EXPECT_ERROR_WITH(parse_task_form("wide"), "'wide'", "natural, padded");
}

TEST(DataSpecRecord, PresentationRoundTripsAndOldRecordsReadAsPadded) {
  cli::DataSpec spec;
  spec.task = "pq";
  TaskOptions o;
  o.max_dashes = 100;
  spec.options = cli::resolved_task_options("pq", o);
  nlohmann::json j = spec.to_json();
  EXPECT_EQ(j["options"]["presentation"], "natural");
  EXPECT_EQ(cli::DataSpec::from_json(j).options.form, TaskForm::natural);
  j["options"].erase("presentation");  // a checkpoint written before the field existed
  EXPECT_EQ(cli::DataSpec::from_json(j).options.form, TaskForm::padded);
  j["task"] = "copy";
  EXPECT_EQ(cli::DataSpec::from_json(j).options.form, TaskForm::natural);
  j["options"]["presentation"] = "sideways";
  EXPECT_ERROR_WITH(cli::DataSpec::from_json(j), "sideways");
}

TEST(DataSpecRecord, NaturalPqIsTypedAsIsAndPaddedPqIsPadded) {
  TaskOptions o;
  o.max_dashes = 10;
  o.form = TaskForm::natural;
  EXPECT_EQ(cli::Presentation::for_task("pq", cli::resolved_task_options("pq", o)).input_width, 0);
  o.form = TaskForm::padded;
  EXPECT_EQ(cli::Presentation::for_task("pq", cli::resolved_task_options("pq", o)).input_width,
            21);
}

TEST(Curriculum, ParsesStrictlyIncreasingListsAndRefusesTheRest) {
  EXPECT_EQ(cli::parse_curriculum("100,300,1000"), (std::vector<int>{100, 300, 1000}));
  EXPECT_EQ(cli::parse_curriculum("7"), (std::vector<int>{7}));
  EXPECT_ERROR_WITH(cli::parse_curriculum("300,100"), "entry 2 (100) is not larger", "300");
  EXPECT_ERROR_WITH(cli::parse_curriculum("100,100"), "not larger");
  EXPECT_ERROR_WITH(cli::parse_curriculum("100,,300"), "entry 2 is empty");
  EXPECT_ERROR_WITH(cli::parse_curriculum(""), "empty");
  EXPECT_ERROR_WITH(cli::parse_curriculum("10,x"), "'x'");
  EXPECT_ERROR_WITH(cli::parse_curriculum("0,10"), "'0'");
  EXPECT_ERROR_WITH(cli::parse_curriculum("-5,10"), "'-5'");
  EXPECT_EQ(cli::length_knob("pq"), "--max-dashes");
  EXPECT_EQ(cli::length_knob("addition"), "--digits");
  EXPECT_ERROR_WITH(cli::length_knob("digits-words"), "digits-words has none");
  EXPECT_ERROR_WITH(cli::length_knob("progression"), "progression has none");
  const TaskOptions stage = cli::stage_options("pq", TaskOptions{}, 20, false);
  EXPECT_EQ(stage.max_dashes, 20);
  EXPECT_EQ(stage.size, 210);  // all distinct questions at 20 dashes
}

CheckpointData checkpoint_with(const ModelConfig& config, const Vocabulary& src,
                               const Vocabulary& tgt) {
  CheckpointData c;
  c.config = config;
  c.source_vocab = src;
  c.target_vocab = tgt;
  return c;
}

TEST(WarmStart, CompatibleAcrossMaxLengthsAndRefusesOtherShapesNamingTheField) {
  const Vocabulary src = Vocabulary::from_symbols({"-", "p"});
  const Vocabulary tgt = Vocabulary::from_symbols({"-", "q"});
  ModelConfig c;
  c.hidden_size = 32;
  c.source_vocab_size = src.size();
  c.target_vocab_size = tgt.size();
  c.max_target_length = 602;
  ModelConfig longer = c;
  longer.max_target_length = 2002;  // pq at 1,000 dashes from a 300-dash model: fine
  cli::check_compatible(checkpoint_with(c, src, tgt), longer, src, tgt, "--init m");

  ModelConfig other = longer;
  other.hidden_size = 64;
  EXPECT_ERROR_WITH(cli::check_compatible(checkpoint_with(c, src, tgt), other, src, tgt, "--init m"),
                    "--init m", "hidden_size", "32", "64");
  other = longer;
  other.cell = CellType::gru;
  EXPECT_ERROR_WITH(cli::check_compatible(checkpoint_with(c, src, tgt), other, src, tgt, "--init m"),
                    "cell", "lstm", "gru");
  other = longer;
  other.layers = 2;
  EXPECT_ERROR_WITH(cli::check_compatible(checkpoint_with(c, src, tgt), other, src, tgt, "--init m"),
                    "layers");
  other = longer;
  other.mode = DecoderMode::repeat;
  EXPECT_ERROR_WITH(cli::check_compatible(checkpoint_with(c, src, tgt), other, src, tgt, "--init m"),
                    "mode", "teacher_forcing", "repeat");
  // The padded form's vocabulary has the space: same sizes would not be enough.
  const Vocabulary spaced = Vocabulary::from_symbols({" ", "-", "p"});
  other = longer;
  other.source_vocab_size = spaced.size();
  EXPECT_ERROR_WITH(cli::check_compatible(checkpoint_with(c, src, tgt), other, spaced, tgt, "--init m"),
                    "source_vocab", "' ', '-', 'p'");
}

}  // namespace
}  // namespace s2s
