// The Keras-like progress bar and the per-epoch lines.
#include "cli/progress.h"

#include <cmath>

#include <fmt/format.h>

namespace s2s::cli {

namespace {
constexpr int kBarWidth = 30;
constexpr double kRedrawSeconds = 0.1;  // at most ten redraws a second
constexpr double kLogSeconds = 30;      // without a terminal: a progress line at most this often

std::string bar(std::int64_t step, std::int64_t steps) {
  const int filled = steps > 0 ? static_cast<int>(kBarWidth * step / steps) : kBarWidth;
  std::string s(static_cast<std::size_t>(filled), '=');
  if (filled < kBarWidth) {
    if (filled > 0) s.back() = '>';
    s.append(static_cast<std::size_t>(kBarWidth - filled), '.');
  }
  return "[" + s + "]";
}
}  // namespace

std::string duration_text(double seconds) {
  if (seconds < 10) return fmt::format("{:.1f}s", seconds);
  const auto total = static_cast<long long>(std::llround(seconds));
  if (total < 60) return fmt::format("{}s", total);
  if (total < 3600) return fmt::format("{}m {:02}s", total / 60, total % 60);
  return fmt::format("{}h {:02}m", total / 3600, (total % 3600) / 60);
}

std::string Progress::metrics_text(const EpochMetrics& m) {
  std::string s = fmt::format("loss: {:.4f} - accuracy: {:.4f}", m.loss, m.accuracy);
  if (!std::isnan(m.exact_match)) s += fmt::format(" - exact_match: {:.4f}", m.exact_match);
  if (!std::isnan(m.val_loss))
    s += fmt::format(" - val_loss: {:.4f} - val_accuracy: {:.4f} - val_exact_match: {:.4f}",
                     m.val_loss, m.val_accuracy, m.val_exact_match);
  return s;
}

void Progress::step(const StepProgress& p) {
  if (quiet_) return;
  if (!interactive_) return log_step(p);
  if (shown_epoch_ != p.epoch) {
    fmt::print(out_, "Epoch {}/{}\n", p.epoch, total_epochs_);
    shown_epoch_ = p.epoch;
    last_draw_ = {};
  }
  const auto now = std::chrono::steady_clock::now();
  if (p.step != p.steps &&
      std::chrono::duration<double>(now - last_draw_).count() < kRedrawSeconds)
    return;
  last_draw_ = now;
  last_steps_ = p.steps;
  const int width = static_cast<int>(std::to_string(p.steps).size());
  fmt::print(out_, "\r{:>{}}/{} {} - {}\033[K", p.step, width, p.steps, bar(p.step, p.steps),
             rate_text(p));
  std::fflush(out_);
}

std::string Progress::rate_text(const StepProgress& p) {
  // ETA by examples, not steps: bucketed batches differ in length, the examples' rate less so.
  const double rate = p.seconds > 0 ? static_cast<double>(p.examples) / p.seconds : 0;
  const double eta =
      rate > 0 ? static_cast<double>(p.epoch_examples - p.examples) / rate : 0;
  return fmt::format("{:.0f} examples/s - ETA: {} - loss: {:.4f} - accuracy: {:.4f}", rate,
                     duration_text(eta), p.loss, p.accuracy);
}

void Progress::log_step(const StepProgress& p) {
  // Without a terminal, a line now and then, so that a log shows a long epoch advancing.
  const auto now = std::chrono::steady_clock::now();
  if (last_log_ == std::chrono::steady_clock::time_point{} || shown_epoch_ != p.epoch) {
    last_log_ = now;
    shown_epoch_ = p.epoch;
    return;
  }
  if (p.step == p.steps ||
      std::chrono::duration<double>(now - last_log_).count() < kLogSeconds)
    return;
  last_log_ = now;
  fmt::print(out_, "epoch {} step {}/{} - {}\n", p.epoch, p.step, p.steps, rate_text(p));
  std::fflush(out_);
}

void Progress::epoch(const EpochMetrics& m) {
  if (quiet_) return;
  if (interactive_) {
    const std::int64_t steps = last_steps_ > 0 ? last_steps_ : 1;
    const int width = static_cast<int>(std::to_string(steps).size());
    fmt::print(out_, "\r{:>{}}/{} {} - {} {:.0f}ms/step - {}\033[K\n", steps, width, steps,
               bar(steps, steps), duration_text(m.seconds), 1000.0 * m.seconds / steps,
               metrics_text(m));
  } else {
    fmt::print(out_, "epoch {}/{} - {} - {:.0f} examples/s - {}\n", m.epoch, total_epochs_,
               duration_text(m.seconds), m.examples_per_second, metrics_text(m));
  }
  std::fflush(out_);
}

}  // namespace s2s::cli
