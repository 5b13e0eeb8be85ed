// Output files of the tool: checked before any work starts, and the metrics log (JSON lines).
#pragma once

#include <chrono>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "s2s/trainer.h"

namespace s2s::cli {

// Throws Error (naming the flag and the path) unless `path` can be created or replaced: its
// folder exists, is a folder, and accepts a new file (probed with a temporary file that is
// removed at once); the path itself must not be a folder.
void check_writable_file(const std::string& path, const std::string& flag);

// Writes each (path, bytes) so that no file is ever seen half-written: every file goes to a
// temporary beside its path first (created with mkstemp, written, flushed with fsync), and only
// when all of them are complete are they renamed over their paths. On failure the temporaries
// are removed, no path has been touched, and Error names the flag, the path and the reason.
void write_files_atomically(const std::vector<std::pair<std::string, std::string>>& files,
                            const std::string& flag);

// Writes text to stdout and flushes it; throws Error "writing to standard output failed: <why>"
// when it does not all arrive (a full disk, an I/O error, a pipe closed with SIGPIPE ignored).
void write_stdout(const std::string& text);

// One JSON object per epoch: epoch, loss, accuracy, exact_match (when computed), val_loss,
// val_accuracy, val_exact_match (with a validation set), seconds, examples_per_second, lr.
// The file is opened at the first epoch (truncated, or appended to when resuming), so a run
// that fails before any epoch leaves no file; each line is flushed whole.
// With a curriculum every record also names its stage ("stage": 1-based index, "stage_length":
// the task's length knob). Validations inside epochs (--eval-every) are records with
// "kind": "step": epoch, step, epoch_step, val_loss, val_accuracy, val_exact_match,
// val_examples, seconds; epoch records have "kind": "epoch". Every record has "elapsed": seconds
// since this log was created (the run's start; a resumed run starts again from 0), so curves
// of a curriculum or step records share one time axis.
class MetricsLog {
 public:
  MetricsLog(std::string path, bool append)
      : path_(std::move(path)), append_(append), start_(std::chrono::steady_clock::now()) {}
  void write(const EpochMetrics& metrics);
  void write(const StepEval& eval);
  // Fields added to every following record (e.g. the curriculum stage); null clears them.
  void set_context(nlohmann::ordered_json context) { context_ = std::move(context); }

 private:
  void emit(nlohmann::ordered_json j);
  std::string path_;
  bool append_;
  std::ofstream out_;
  nlohmann::ordered_json context_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace s2s::cli
