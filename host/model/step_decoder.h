// Drives a model's decoder one step at a time over N = batch_size x copies rows (row r decodes
// source r / copies): what beam search, sampling and greedy decoding with attention maps share.
// A thin face over BasicSeq2Seq's private step calls (host/model/step_decoding.inc).
#pragma once

#include <cstdint>
#include <vector>

#include "s2s/backend.h"
#include "s2s/batch.h"
#include "s2s/seq2seq.h"

namespace s2s {

template <typename T>
class StepDecoder {
 public:
  explicit StepDecoder(BasicSeq2Seq<T>& model) : model_(model) {}

  // Checks the batch (targets ignored) and encodes its sources; every row starts from its
  // source's final encoder state. max_length: the most steps (0: the model's
  // max_target_length; a repeat decoder is capped there). Throws Error for a feature model or
  // a batch that does not fit. Returns the step limit in force.
  int start(const Batch& batch, int copies, int max_length) {
    rows_ = batch.batch_size * copies;
    limit_ = model_.step_start(batch, copies, max_length);
    return limit_;
  }
  int rows() const { return rows_; }
  int limit() const { return limit_; }
  int vocab() const { return model_.config().target_vocab_size; }
  bool has_attention() const { return model_.config().attention != AttentionKind::none; }

  // One step: row r reads tokens[r] (the start token at step 1). Returns the log-probabilities
  // [rows, V] of the next token, on the model's backend, valid until the next step; logits()
  // holds the head's raw outputs of the same step.
  const T* step(const std::vector<std::int32_t>& tokens) { return model_.step_forward(tokens); }
  const T* logits() const { return model_.step_logits(); }
  // Row r continues from row parents[r] (a row of the same source), states and all.
  void reorder(const std::vector<std::int32_t>& parents) { model_.step_reorder(parents); }
  // The last step's attention weights [rows, Ts] (zeros past each source's length); empty for a
  // model without attention.
  std::vector<T> attention() { return model_.step_attention(); }

  Ops<T>& ops() { return model_.step_ops(); }
  Memory& memory() { return model_.step_ops().memory(); }

 private:
  BasicSeq2Seq<T>& model_;
  int rows_ = 0, limit_ = 0;
};

}  // namespace s2s
