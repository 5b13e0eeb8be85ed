// DecodeOptions::validate: every value a user can give the decoders, checked with a message that
// says what is allowed.
#include <cmath>
#include <string>

#include "s2s/decoding.h"
#include "s2s/error.h"

namespace s2s {

namespace {
std::string number_text(double value) {
  std::string text = std::to_string(value);
  if (std::isfinite(value)) {
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text.pop_back();
  }
  return text;
}
}  // namespace

void DecodeOptions::validate() const {
  require(max_length >= 0, "decoding: max_length is " + std::to_string(max_length) +
                               " (allowed: 1 or more, or 0 for the model's limit)");
  require(beam_size >= 1 && beam_size <= kMaxBeamSize,
          "decoding: beam size is " + std::to_string(beam_size) + " (allowed: 1 to " +
              std::to_string(kMaxBeamSize) + "; 1 is greedy decoding)");
  require(n_best >= 1 && n_best <= beam_size,
          "decoding: n-best is " + std::to_string(n_best) + " with beam size " +
              std::to_string(beam_size) + " (allowed: 1 to the beam size)");
  require(std::isfinite(length_penalty) && length_penalty >= 0,
          "decoding: length penalty is " + number_text(length_penalty) +
              " (allowed: a finite number, 0 or more; 0 ranks by the sum of log-probabilities)");
  require(std::isfinite(temperature) && temperature > 0,
          "decoding: temperature is " + number_text(temperature) +
              " (allowed: a finite number greater than 0)");
  require(top_k >= 0, "decoding: top-k is " + std::to_string(top_k) +
                          " (allowed: 0 for every token, or 1 or more)");
}

}  // namespace s2s
