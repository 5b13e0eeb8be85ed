// Optimizer settings: SGD with momentum or Adam (Keras defaults), learning-rate decay, clipping.
#pragma once

#include <cstdint>
#include <string>

namespace s2s {

enum class OptimizerKind { sgd, adam };

std::string to_string(OptimizerKind kind);
OptimizerKind parse_optimizer(const std::string& name);  // "sgd" or "adam"; Error otherwise

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::adam;
  double learning_rate = 1e-3;
  double momentum = 0.0;  // SGD only
  double beta1 = 0.9;     // Adam only (Keras defaults)
  double beta2 = 0.999;
  double epsilon = 1e-7;
  // Inverse time decay (Keras' legacy `decay`, seed 002's decay_rate): the rate at update step s
  // (counted from 0) is learning_rate / (1 + decay * s).
  double decay = 0.0;
  // Clip gradients by global norm before each update (tf.clip_by_global_norm); 0 = off.
  double clip_norm = 0.0;

  // The learning rate used by update step `step` (counted from 0).
  double rate_at(std::int64_t step) const { return learning_rate / (1.0 + decay * step); }
  // Throws Error naming the first field out of range.
  void validate() const;
};

}  // namespace s2s
