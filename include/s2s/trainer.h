// Trainer: what Keras' fit does for a Seq2Seq model, and more: seeded shuffles, validation,
// per-epoch metrics, seed 001's early stopping, checkpoints (each epoch and the best), callbacks,
// and an exact resume from a checkpoint's TrainingState.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "s2s/checkpoint.h"
#include "s2s/communicator.h"
#include "s2s/random.h"
#include "s2s/seq2seq.h"
#include "s2s/sequences.h"

namespace s2s {

// Seed 001's early stopping: an epoch improves when the previous epoch's validation loss minus
// this one's is at least min_delta (the first epoch always does); otherwise the count of epochs
// without improvement grows, and training stops when it reaches patience. An improvement resets
// the count. patience 0 = never stop.
struct EarlyStopping {
  int patience = 0;
  double min_delta = 0.0;
  double previous = std::numeric_limits<double>::infinity();  // last epoch's validation loss
  std::int64_t waited = 0;  // epochs in a row without improvement

  // Records one epoch's validation loss; true when training should stop now.
  bool observe(double valid_loss);
};

struct TrainerOptions {
  int epochs = 10;      // total epochs to reach; a resumed run counts the epochs already done
  int batch_size = 32;
  std::uint64_t shuffle_seed = 1;  // the training order of every epoch comes from Rng(seed)
  int patience = 0;                // early stopping (EarlyStopping); 0 = off
  double min_delta = 0.0;
  bool train_exact_match = false;  // also greedy-decode the training set every epoch (slow)
  int eval_batch_size = 256;       // validation batches
  // Length buckets (s2s/batching.h): batches of equal or nearly equal lengths, in a shuffled
  // order. Off: seed 001's shuffle cut every batch_size examples.
  bool bucket = false;
  // Validation every this many optimizer steps inside epochs as well (0 = at epoch ends only);
  // each one is reported to on_eval.
  std::int64_t eval_every = 0;
  // Validation (at epoch ends and every eval_every steps) on the first this many validation
  // examples only (0 = all). The split's order is already random, so this is a random sample,
  // the same one every time.
  std::size_t eval_examples = 0;
  // Stop as soon as a validation (epoch end or eval_every) reaches this exact match (0 = off).
  // The epoch it happens in ends there and counts as done.
  double target_exact_match = 0;
  // At most this many optimizer steps in one fit() call (0 = no limit); the epoch the budget
  // runs out in ends there and counts as done.
  std::int64_t max_steps = 0;
  // Written after every epoch (atomically) when not empty: the model, optimizer and training
  // state. The best epoch by validation loss goes to best_checkpoint_path (when not empty and
  // there is a validation set).
  std::string checkpoint_path;
  std::string best_checkpoint_path;
  // Stored in TrainingState.data_json: how the data was made (a JSON object; the trainer adds
  // its "trainer" member, see Trainer::state()).
  std::string data_json = "{}";

  // Throws Error naming the first option out of range.
  void validate() const;
};

// Loss and accuracies of a model over a data set.
struct EvalResult {
  std::size_t examples = 0;
  double loss = 0;                 // mean over real target tokens (the end token included)
  std::int64_t correct_tokens = 0;  // argmax right under teacher forcing
  std::int64_t total_tokens = 0;
  std::int64_t exact = 0;          // greedy predictions equal to the target
  bool has_exact = false;
  // Per target length (characters, without the end token): examples, token counts, exact.
  struct ByLength {
    std::size_t examples = 0;
    std::int64_t correct_tokens = 0, total_tokens = 0, exact = 0;
  };
  std::map<int, ByLength> by_length;

  double accuracy() const {
    return total_tokens ? static_cast<double>(correct_tokens) / total_tokens : 0.0;
  }
  double exact_match() const { return examples ? static_cast<double>(exact) / examples : 0.0; }
};

// Loss and teacher-forced token accuracy over `data` in batches, and (when with_exact) greedy
// decoding's exact-match accuracy; by_length filled when per_length. Forward passes only: the
// model's parameters and gradients are untouched.
EvalResult evaluate(Seq2Seq& model, const SequenceData& data, int batch_size = 256,
                    bool with_exact = true, bool per_length = false);

// Data-parallel evaluate (loss, token accuracy, exact match; no per-length rows): each rank of
// comm evaluates its contiguous share of `data` and the counts are summed over the ranks, so
// every rank gets the whole set's result. Every rank must call it. With comm.size() == 1 it is
// evaluate(model, data, batch_size, with_exact).
EvalResult evaluate(Seq2Seq& model, const SequenceData& data, const Communicator& comm,
                    int batch_size = 256, bool with_exact = true);

// Greedy predictions (token ids, end token excluded) of data's examples at `indices`.
std::vector<std::vector<std::int32_t>> predict(Seq2Seq& model, const SequenceData& data,
                                               const std::vector<std::size_t>& indices,
                                               int batch_size = 256);

// One epoch's numbers. Validation fields are NaN when there is no validation set; exact_match
// (training) is NaN unless TrainerOptions::train_exact_match.
struct EpochMetrics {
  std::int64_t epoch = 0;  // 1-based
  double loss = 0;         // training loss: mean over batches weighted by real target tokens
  double accuracy = 0;     // training token accuracy (teacher forcing, as the steps saw it)
  double exact_match = std::numeric_limits<double>::quiet_NaN();
  double val_loss = std::numeric_limits<double>::quiet_NaN();
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();
  double val_exact_match = std::numeric_limits<double>::quiet_NaN();
  double seconds = 0;               // the whole epoch, validation and checkpoints included
  double examples_per_second = 0;   // training examples / seconds spent in training steps
  double learning_rate = 0;         // the rate of the epoch's last update
  std::int64_t steps = 0;           // optimizer updates made so far (all epochs)
  bool improved = false;            // early stopping's view (always true without validation)
  bool best = false;                // a new best validation loss (best checkpoint written)
  bool stop = false;                // early stopping ends training after this epoch
  bool reached_target = false;      // validation reached options.target_exact_match
  bool partial = false;             // ended early by the target or the step budget
};

// A validation inside an epoch (TrainerOptions::eval_every).
struct StepEval {
  std::int64_t epoch = 0;       // 1-based, the epoch in progress
  std::int64_t step = 0;        // optimizer updates made so far (all epochs)
  std::int64_t epoch_step = 0;  // steps into this epoch
  std::size_t examples = 0;     // validation examples used
  double val_loss = 0, val_accuracy = 0, val_exact_match = 0;
  double seconds = 0;           // since this fit() call started
};

// Progress inside an epoch, after each step.
struct StepProgress {
  std::int64_t epoch = 0;  // 1-based
  std::int64_t step = 0;   // 1-based within the epoch
  std::int64_t steps = 0;  // steps in the epoch
  double loss = 0;         // running training loss of the epoch so far
  double accuracy = 0;     // running token accuracy of the epoch so far
  double seconds = 0;      // since the epoch started
  std::size_t examples = 0;        // training examples done in this epoch
  std::size_t epoch_examples = 0;  // training examples in the epoch
};

class Trainer {
 public:
  // Trains `model` (its optimizer must be set) on train, validating on valid (may be empty).
  // The model is borrowed and must outlive the trainer. Throws Error when the options are out
  // of range, the data is empty or does not fit the model (vocabulary sizes, input kind).
  Trainer(Seq2Seq& model, SequenceData train, SequenceData valid, TrainerOptions options);

  using StepCallback = std::function<void(const StepProgress&)>;
  using EpochCallback = std::function<void(const EpochMetrics&)>;
  void on_step(StepCallback callback) { on_step_ = std::move(callback); }
  // Called after each epoch, once its checkpoints are written.
  void on_epoch(EpochCallback callback) { on_epoch_ = std::move(callback); }
  using EvalCallback = std::function<void(const StepEval&)>;
  // Called after each validation inside an epoch (options.eval_every).
  void on_eval(EvalCallback callback) { on_eval_ = std::move(callback); }

  // Data parallel over comm's ranks (borrowed; it must outlive the trainer): every rank runs the
  // same trainer on the same data and model; each step takes the rank's shard of the global
  // batch (options.batch_size examples, split in contiguous shares), validation is sharded and
  // reduced, and only rank 0 writes checkpoints. fit() first checks that all ranks agree on
  // options, data, model, parameters and training state (Error naming the rank otherwise) and
  // that there are no more ranks than batch_size. Callbacks run on every rank.
  void set_communicator(const Communicator& comm) { comm_ = &comm; }

  // Continues from a checkpoint's state: epochs done, shuffling engine, best validation loss,
  // early stopping (the model's parameters and optimizer come from the checkpoint separately,
  // see model_from_checkpoint). Throws Error for a state this trainer cannot continue.
  void restore(const TrainingState& state);
  // Where training stands now. data_json is options.data_json with a "trainer" member added:
  // {"previous_valid_loss": x} (seed 001's early stopping compares with the previous epoch,
  // which TrainingState has no field for).
  TrainingState state() const;

  // Trains until options.epochs epochs are done in total or early stopping ends it; returns
  // this call's epochs. Throws Error from the model (e.g. a non-finite loss, naming the step).
  std::vector<EpochMetrics> fit();
  // Whether the last fit() ended by early stopping.
  bool stopped_early() const { return stopped_early_; }
  // Whether the last fit() ended because validation reached options.target_exact_match.
  bool reached_target() const { return reached_target_; }
  // The best validation exact match the last fit() saw (NaN without validation).
  double best_exact_match() const { return best_exact_match_; }

  const SequenceData& train_data() const { return train_; }
  const SequenceData& valid_data() const { return valid_; }

 private:
  EpochMetrics run_epoch();
  void save(const std::string& path) const;
  void check_ranks_agree(const char* when) const;
  EvalResult validate_now();  // on valid_eval_

  std::vector<std::vector<std::size_t>> epoch_batches();

  Seq2Seq& model_;
  SequenceData train_, valid_;
  SequenceData valid_eval_;  // valid_, or its first options.eval_examples examples
  TrainerOptions options_;
  Rng rng_;
  std::int64_t epoch_ = 0;
  double best_valid_loss_ = std::numeric_limits<double>::infinity();
  EarlyStopping early_;
  bool stopped_early_ = false;
  bool reached_target_ = false;
  double best_exact_match_ = std::numeric_limits<double>::quiet_NaN();
  std::int64_t fit_steps_ = 0;  // optimizer steps of the current fit() call
  std::chrono::steady_clock::time_point fit_start_{};
  StepCallback on_step_;
  EpochCallback on_epoch_;
  std::unique_ptr<Communicator> single_ = make_single_communicator();
  const Communicator* comm_ = single_.get();
  EvalCallback on_eval_;
};

// The path of the best checkpoint next to `path`: "model.safetensors" -> "model.best.safetensors"
// (any other name gets ".best" appended).
std::string best_checkpoint_path(const std::string& path);

}  // namespace s2s
