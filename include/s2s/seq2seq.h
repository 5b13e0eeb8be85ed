// Seq2Seq: input (embedding, one-hot or features) -> encoder RNN -> decoder RNN -> output head
// -> loss, on one backend, with its parameters, gradients and optimizer state in flat buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "s2s/backend.h"
#include "s2s/batch.h"
#include "s2s/communicator.h"
#include "s2s/config.h"
#include "s2s/optimizer.h"
#include "s2s/tensor.h"

namespace s2s {

// One named parameter tensor inside the flat buffer (PyTorch names, DESIGN.md "Checkpoints").
struct ParameterInfo {
  std::string name;   // e.g. "encoder.rnn.weight_ih_l0"
  Shape shape;        // e.g. [4*H, In]
  std::size_t offset = 0;  // first element in the flat buffer
  std::size_t size() const { return static_cast<std::size_t>(element_count(shape)); }
};

// The named tensors of a model, in buffer order. Depends on the config only.
std::vector<ParameterInfo> parameter_layout(const ModelConfig& config);

struct StepResult {
  double loss = 0;            // mean loss over the batch's real target positions
  double gradient_norm = 0;   // global norm of the gradients before clipping
  std::int64_t correct = 0;   // target tokens whose argmax under teacher forcing was right
  std::int64_t total = 0;     // real target tokens (0 for feature outputs)
};

template <typename T>
class BasicSeq2Seq {
 public:
  // Builds the model and initialises its parameters from seed as PyTorch does: RNN weights and
  // biases and the output head U(-1/sqrt(fan), 1/sqrt(fan)), embeddings N(0, 1).
  // Throws Error for an invalid config or an unusable backend.
  // precision: the GEMMs' arithmetic on CUDA (see Precision; exact on the CPU either way).
  BasicSeq2Seq(const ModelConfig& config, std::uint64_t seed,
               BackendKind backend = BackendKind::cpu, Precision precision = Precision::fp32);
  ~BasicSeq2Seq();
  BasicSeq2Seq(BasicSeq2Seq&&) noexcept;
  BasicSeq2Seq& operator=(BasicSeq2Seq&&) noexcept;

  const ModelConfig& config() const;
  BackendKind backend() const;

  const std::vector<ParameterInfo>& parameter_info() const;
  std::size_t parameter_count() const;
  std::vector<T> parameters() const;  // the flat buffer, downloaded
  // Replaces every parameter; throws Error on a size mismatch or a non-finite value (naming the
  // tensor and index).
  void set_parameters(const std::vector<T>& values);
  // The gradients left by the last forward_backward / train_step, flat, same layout.
  std::vector<T> gradients() const;
  // For gradient checks of a model with dropout: from now on every forward pass (loss,
  // evaluate and forward_backward alike) applies the same dropout masks, drawn from mask_seed
  // (for batches of one shape), so that finite differences see the function whose gradient
  // forward_backward computes. Without it, dropout applies only when training and draws new
  // masks each optimizer step from (seed, step).
  void fix_dropout_masks(std::uint64_t mask_seed);
  // The seed that training's dropout masks are drawn from, with the optimizer step: the
  // constructor's seed unless set here. A resumed run sets the seed it trained with (a model
  // rebuilt from a checkpoint starts with seed 0) so that it draws the masks an uninterrupted
  // run would.
  void set_dropout_seed(std::uint64_t seed);

  // Forward pass and mean loss; no gradients. Throws Error if the batch does not fit the model.
  double loss(const Batch& batch);
  // Forward pass: loss and token accuracy counts (as forward_backward), no backward pass; the
  // gradients are left as they were.
  StepResult evaluate(const Batch& batch);
  // Forward and backward; overwrites the gradients. Returns loss and token accuracy counts.
  StepResult forward_backward(const Batch& batch);

  // Optimizer: set (or replace, resetting its state) before train_step.
  void set_optimizer(const OptimizerConfig& optimizer);
  bool has_optimizer() const;  // whether set_optimizer was called
  const OptimizerConfig& optimizer() const;
  std::int64_t optimizer_step() const;  // updates made so far
  // forward_backward, clipping, one optimizer update. Throws Error, leaving the parameters
  // untouched, when the loss or gradients are not finite (naming the step).
  StepResult train_step(const Batch& batch);
  // Data-parallel: one step on this rank's shard of a global batch (batch_size 0 when the shard
  // is empty), the gradients reduced over `comm` as the mean over the global batch's real target
  // positions (each rank's mean weighted by its share of them), then the same clipping (by the
  // global norm) and update on every rank. The result is the global batch's. Every rank of comm
  // must call it. With comm.size() == 1 it is train_step(batch).
  StepResult train_step(const Batch& batch, const Communicator& comm);
  // Optimizer state as named flat tensors ("optimizer.m", "optimizer.v" for Adam,
  // "optimizer.velocity" for SGD with momentum), each parameter_count() long.
  std::vector<std::pair<std::string, std::vector<T>>> optimizer_state() const;
  void set_optimizer_state(std::int64_t step,
                           const std::vector<std::pair<std::string, std::vector<T>>>& state);

  // Greedy decoding of the batch's sources (targets ignored). Token outputs: ids without the
  // end token, at most max_length each (0 = config().max_target_length).
  std::vector<std::vector<std::int32_t>> predict_tokens(const Batch& batch, int max_length = 0);
  // Feature outputs: each sequence [steps, target_features] flattened; teacher-forcing models
  // run `steps` steps feeding back their outputs; repeat models run `steps` steps in one pass.
  std::vector<std::vector<double>> predict_features(const Batch& batch, int steps);

 private:
  // Step-by-step decoding over batch_size x copies rows, for host/decode/ through
  // StepDecoder (host/model/step_decoder.h, which documents each call).
  template <typename> friend class StepDecoder;
  Ops<T>& step_ops();
  int step_start(const Batch& batch, int copies, int max_length);
  const T* step_forward(const std::vector<std::int32_t>& tokens);
  const T* step_logits() const;
  void step_reorder(const std::vector<std::int32_t>& parents);
  std::vector<T> step_attention();

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

using Seq2Seq = BasicSeq2Seq<float>;

}  // namespace s2s
