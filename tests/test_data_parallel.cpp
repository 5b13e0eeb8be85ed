// Data parallelism without MPI (ranks as threads, tests/thread_communicator.h): shards, the
// token-weighted gradient reduction of train_step(batch, comm), sharded evaluation, the Trainer
// over several ranks, the ranks' agreement check, and the single-process communicator.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <set>
#include <vector>

#include "expect_error.h"
#include "parallel/shard.h"
#include "s2s/communicator.h"
#include "s2s/seq2seq.h"
#include "s2s/sequences.h"
#include "s2s/tasks.h"
#include "s2s/trainer.h"
#include "thread_communicator.h"

namespace s2s {
namespace {

using testing::run_ranks;

// float64 on the CPU: only summation order differs between 1 and N ranks.
constexpr double kDoubleAtol = 1e-12;
// float32 model over several steps: float summation order, amplified a little by Adam.
constexpr double kFloatAtol = 1e-5;

SequenceData reverse_data(int size, std::uint64_t seed = 5) {
  TaskOptions options;
  options.digits = 7;  // targets of 1..7 tokens: shards hold very different token counts
  options.size = size;
  options.seed = seed;
  return sequence_data(encode_pairs(generate_task("reverse", options)));
}

ModelConfig config_for(const SequenceData& data) {
  ModelConfig c;
  c.cell = CellType::lstm;
  c.hidden_size = 12;
  c.mode = DecoderMode::teacher_forcing;
  c.input = InputKind::one_hot;
  c.source_vocab_size = data.source_vocab.size();
  c.target_vocab_size = data.target_vocab.size();
  c.max_target_length = data.max_target_length() + 1;
  return c;
}

// A global batch whose first examples have long targets and whose last have short ones, so an
// equal split over ranks gives shards with different token counts.
std::vector<std::size_t> uneven_order(const SequenceData& data) {
  std::vector<std::size_t> order(data.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return data.targets[a].size() > data.targets[b].size();
  });
  return order;
}

template <typename T>
double max_abs_diff(const std::vector<T>& a, const std::vector<T>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  return worst;
}

TEST(Shard, RangesTileTheBatchInBalancedContiguousShares) {
  for (std::size_t count : {0, 1, 2, 3, 7, 16, 101})
    for (int size : {1, 2, 3, 5, 8}) {
      std::size_t next = 0, smallest = count, largest = 0;
      for (int r = 0; r < size; ++r) {
        const ShardRange s = shard_range(count, r, size);
        EXPECT_EQ(s.begin, next) << count << " over " << size << ", rank " << r;
        next = s.end;
        smallest = std::min(smallest, s.size());
        largest = std::max(largest, s.size());
      }
      EXPECT_EQ(next, count);
      EXPECT_LE(largest - smallest, 1u);
    }
  EXPECT_ERROR_WITH(shard_range(10, 2, 2), "rank 2 of 2");
}

TEST(SingleCommunicator, IsOneRankWhoseCollectivesKeepOrScaleTheData) {
  const auto comm = make_single_communicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  std::vector<double> d = {1.5, -2.0};
  comm->allreduce(d.data(), d.size(), ReduceOp::max);
  EXPECT_EQ(d, (std::vector<double>{1.5, -2.0}));
  comm->allreduce_scaled_sum(d.data(), d.size(), 0.5);
  EXPECT_EQ(d, (std::vector<double>{0.75, -1.0}));
  EXPECT_ERROR_WITH(comm->broadcast(d.data(), 8, 1), "root is 1");
  float f = 1;
  EXPECT_ERROR_WITH(comm->allreduce_scaled_sum_device(&f, 1, 1.0), "host memory only");
}

// Sets or clears environment variables for one test (each test runs in its own process under
// ctest) and restores none: the launcher variables are absent in the tests' environment.
void clear_launcher_environment() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS",
                           "PMIX_RANK", "PMI_RANK", "SLURM_NTASKS"})
    ::unsetenv(name);
}

TEST(Launcher, TheEnvironmentSaysHowManyRanksALauncherStarted) {
  clear_launcher_environment();
  EXPECT_EQ(launcher_world_size(), 0);
  EXPECT_EQ(make_world_communicator()->size(), 1);  // no launcher: one process, no MPI
  ::setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
  EXPECT_EQ(launcher_world_size(), 4);
  ::unsetenv("OMPI_COMM_WORLD_SIZE");
  ::setenv("PMIX_RANK", "0", 1);
  ::setenv("SLURM_NTASKS", "3", 1);
  EXPECT_EQ(launcher_world_size(), 3);
  ::setenv("SLURM_NTASKS", "x", 1);
  EXPECT_EQ(launcher_world_size(), 1);
  clear_launcher_environment();
}

TEST(Launcher, SeveralRanksWithoutMpiAreRefused) {
  if (mpi_built()) GTEST_SKIP() << "s2s has MPI: a launcher's ranks start MPI (tests/mpi/)";
  clear_launcher_environment();
  ::setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
  EXPECT_ERROR_WITH(make_world_communicator(), "built without MPI", "2 ranks");
  clear_launcher_environment();
}

TEST(ThreadRanks, AllreduceAndBroadcastAgreeOnEveryRank) {
  run_ranks(3, [](const Communicator& comm) {
    std::vector<double> d = {double(comm.rank()), 1.0};
    comm.allreduce(d.data(), 2, ReduceOp::sum);
    EXPECT_EQ(d, (std::vector<double>{3.0, 3.0}));
    std::int64_t m[2] = {comm.rank(), comm.rank()};
    comm.allreduce(m, 1, ReduceOp::max);
    comm.allreduce(m + 1, 1, ReduceOp::min);
    EXPECT_EQ(m[0], 2);
    EXPECT_EQ(m[1], 0);
    std::vector<float> g = {2.0f};
    comm.allreduce_scaled_sum(g.data(), 1, comm.rank() == 0 ? 0.5 : 0.25);  // 1 + 0.5 + 0.5
    EXPECT_EQ(g[0], 2.0f);
    int value = comm.rank() == 1 ? 42 : 0;
    comm.broadcast(&value, sizeof value, 1);
    EXPECT_EQ(value, 42);
  });
}

// The heart of it: N ranks on shards of a global batch make the step one process makes on the
// whole batch, because each rank's mean gradient is weighted by its share of the target tokens.
TEST(DataParallelStep, RanksOnShardsEqualOneProcessOnTheWholeBatch) {
  const SequenceData data = reverse_data(40);
  const ModelConfig config = config_for(data);
  const std::vector<std::size_t> order = uneven_order(data);
  constexpr int kSteps = 3;
  constexpr std::size_t kBatch = 13;  // 13 over 3 ranks: 5/4/4 examples, different tokens

  BasicSeq2Seq<double> reference(config, 7);
  reference.set_optimizer({});
  std::vector<double> reference_losses;
  for (int s = 0; s < kSteps; ++s)
    reference_losses.push_back(
        reference.train_step(make_batch(data, order, s * kBatch, (s + 1) * kBatch)).loss);

  for (int ranks : {2, 3}) {
    std::mutex mutex;
    std::vector<std::vector<double>> results(ranks);
    run_ranks(ranks, [&](const Communicator& comm) {
      BasicSeq2Seq<double> model(config, 7);
      model.set_optimizer({});
      for (int s = 0; s < kSteps; ++s) {
        const ShardRange mine = shard_range(kBatch, comm.rank(), comm.size());
        const std::size_t begin = s * kBatch + mine.begin;
        const StepResult r = model.train_step(make_batch(data, order, begin, begin + mine.size()),
                                              comm);
        EXPECT_NEAR(r.loss, reference_losses[s], kDoubleAtol) << ranks << " ranks, step " << s;
      }
      std::lock_guard<std::mutex> lock(mutex);
      results[comm.rank()] = model.parameters();
    });
    std::printf("%d ranks: parameters off by up to %.3e after %d steps\n", ranks,
                max_abs_diff(results[0], reference.parameters()), kSteps);
    for (int r = 0; r < ranks; ++r) {
      EXPECT_LT(max_abs_diff(results[r], reference.parameters()), kDoubleAtol)
          << ranks << " ranks, rank " << r;
      EXPECT_EQ(results[r], results[0]) << "ranks must hold the same bits";
    }
  }
}

// Shows that the test above can fail: the plain mean of the ranks' mean gradients is not the
// gradient of the global batch when the shards hold different numbers of target tokens.
TEST(DataParallelStep, PlainMeanOfRankMeansWouldDiffer) {
  const SequenceData data = reverse_data(40);
  const ModelConfig config = config_for(data);
  const std::vector<std::size_t> order = uneven_order(data);
  BasicSeq2Seq<double> whole(config, 7), first(config, 7), second(config, 7);
  whole.forward_backward(make_batch(data, order, 0, 12));
  first.forward_backward(make_batch(data, order, 0, 6));
  second.forward_backward(make_batch(data, order, 6, 12));
  std::vector<double> plain = first.gradients();
  const std::vector<double> g2 = second.gradients();
  for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = 0.5 * (plain[i] + g2[i]);
  const double plain_error = max_abs_diff(plain, whole.gradients());
  std::printf("plain mean of rank means: gradient off by up to %.3e\n", plain_error);
  EXPECT_GT(plain_error, 1e3 * kDoubleAtol);
}

TEST(DataParallelStep, AnEmptyShardContributesNothing) {
  const SequenceData data = reverse_data(8);
  const ModelConfig config = config_for(data);
  const std::vector<std::size_t> order = uneven_order(data);
  BasicSeq2Seq<double> reference(config, 7);
  reference.set_optimizer({});
  reference.train_step(make_batch(data, order, 0, 2));
  std::vector<double> rank2;
  run_ranks(3, [&](const Communicator& comm) {
    BasicSeq2Seq<double> model(config, 7);
    model.set_optimizer({});
    const ShardRange mine = shard_range(2, comm.rank(), comm.size());  // rank 2: empty
    const Batch batch = mine.size() ? make_batch(data, order, mine.begin, mine.end) : Batch{};
    model.train_step(batch, comm);
    if (comm.rank() == 2) rank2 = model.parameters();
  });
  EXPECT_LT(max_abs_diff(rank2, reference.parameters()), kDoubleAtol);
}

TEST(DataParallelStep, ASingleProcessCommunicatorIsThePlainStep) {
  const SequenceData data = reverse_data(16);
  const ModelConfig config = config_for(data);
  const std::vector<std::size_t> order = uneven_order(data);
  Seq2Seq a(config, 3), b(config, 3);
  a.set_optimizer({});
  b.set_optimizer({});
  const auto single = make_single_communicator();
  a.train_step(make_batch(data, order, 0, 16));
  b.train_step(make_batch(data, order, 0, 16), *single);
  EXPECT_EQ(a.parameters(), b.parameters());
}

TEST(DataParallelEvaluate, ShardedEvaluationEqualsTheWholeSet) {
  const SequenceData data = reverse_data(23);
  const ModelConfig config = config_for(data);
  Seq2Seq model(config, 11);
  const EvalResult whole = evaluate(model, data, 4, true);
  run_ranks(3, [&](const Communicator& comm) {
    Seq2Seq mine(config, 11);
    const EvalResult r = evaluate(mine, data, comm, 4, true);
    EXPECT_EQ(r.examples, whole.examples);
    EXPECT_EQ(r.total_tokens, whole.total_tokens);
    EXPECT_EQ(r.correct_tokens, whole.correct_tokens);
    EXPECT_EQ(r.exact, whole.exact);
    EXPECT_NEAR(r.loss, whole.loss, kFloatAtol);
  });
}

TrainerOptions trainer_options() {
  TrainerOptions o;
  o.epochs = 2;
  o.batch_size = 10;
  o.shuffle_seed = 4;
  o.eval_batch_size = 7;
  return o;
}

TEST(DataParallelTrainer, RanksTrainTheModelOneProcessTrains) {
  const ValidationSplit split = split_validation(reverse_data(56), 0.15, 6);
  const SequenceData& train = split.train;
  const SequenceData& valid = split.valid;
  const ModelConfig config = config_for(train);
  Seq2Seq reference(config, 2);
  reference.set_optimizer({});
  Trainer one(reference, train, valid, trainer_options());
  const auto history = one.fit();
  std::vector<float> rank0, rank1;
  run_ranks(2, [&](const Communicator& comm) {
    Seq2Seq model(config, 2);
    model.set_optimizer({});
    Trainer trainer(model, train, valid, trainer_options());
    trainer.set_communicator(comm);
    const auto mine = trainer.fit();
    ASSERT_EQ(mine.size(), history.size());
    EXPECT_NEAR(mine.back().loss, history.back().loss, kFloatAtol);
    EXPECT_NEAR(mine.back().val_loss, history.back().val_loss, kFloatAtol);
    EXPECT_EQ(mine.back().steps, history.back().steps);
    (comm.rank() == 0 ? rank0 : rank1) = model.parameters();
  });
  EXPECT_LT(max_abs_diff(rank0, reference.parameters()), kFloatAtol);
  EXPECT_EQ(rank0, rank1);
}

TEST(DataParallelTrainer, RanksWithDifferentDataAreRefusedNamingTheRank) {
  const SequenceData train = reverse_data(30);
  const ModelConfig config = config_for(train);
  EXPECT_ERROR_WITH(run_ranks(2, [&](const Communicator& comm) {
                      // Same size and vocabularies, other examples on rank 1.
                      const SequenceData mine = comm.rank() == 0 ? train : reverse_data(30, 99);
                      Seq2Seq model(config, 2);
                      model.set_optimizer({});
                      Trainer trainer(model, mine, SequenceData{}, trainer_options());
                      trainer.set_communicator(comm);
                      trainer.fit();
                    }),
                    "rank 1 of 2 differs from rank 0 in its training data");
}

TEST(DataParallelTrainer, MoreRanksThanTheBatchAreRefused) {
  const SequenceData train = reverse_data(30);
  const ModelConfig config = config_for(train);
  TrainerOptions o = trainer_options();
  o.batch_size = 2;
  EXPECT_ERROR_WITH(run_ranks(3, [&](const Communicator& comm) {
                      Seq2Seq model(config, 2);
                      model.set_optimizer({});
                      Trainer trainer(model, train, SequenceData{}, o);
                      trainer.set_communicator(comm);
                      trainer.fit();
                    }),
                    "3 ranks for a global batch of 2");
}

}  // namespace
}  // namespace s2s
