// Training progress on the terminal: a Keras-like bar redrawn with \r on a terminal, one line
// per epoch otherwise, and nothing at all when quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "s2s/trainer.h"

namespace s2s::cli {

class Progress {
 public:
  // out: where to draw; interactive: redraw a bar (a terminal); quiet: print nothing.
  Progress(std::FILE* out, bool interactive, bool quiet, std::int64_t total_epochs)
      : out_(out), interactive_(interactive), quiet_(quiet), total_epochs_(total_epochs) {}

  void step(const StepProgress& p);
  void epoch(const EpochMetrics& m);
  // Text of the epoch's metrics: "loss: 0.1234 - accuracy: 0.9876 - val_loss: ..."
  static std::string metrics_text(const EpochMetrics& m);
  // "812 examples/s - ETA: 1m 05s - loss: ... - accuracy: ..." within the epoch.
  static std::string rate_text(const StepProgress& p);

 private:
  std::FILE* out_;
  bool interactive_, quiet_;
  std::int64_t total_epochs_;
  std::int64_t shown_epoch_ = 0;  // the epoch whose header was printed
  std::chrono::steady_clock::time_point last_draw_{};
  std::int64_t last_steps_ = 0;
  std::chrono::steady_clock::time_point last_log_{};

  void log_step(const StepProgress& p);
};

// "1m 05s", "12s", "0.4s"
std::string duration_text(double seconds);

}  // namespace s2s::cli
