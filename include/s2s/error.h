// The one exception type of s2s: every failure a user can cause or see arrives as an s2s::Error.
#pragma once

#include <stdexcept>
#include <string>

namespace s2s {

// Thrown by the library for bad input, bad files and backend failures. The message says what was
// wrong, where, and what is allowed. The library never calls exit or abort.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws Error(message) unless condition holds. A function, not a macro: the message is built
// by the caller, so keep it cheap on hot paths (check first, format inside the branch).
inline void require(bool condition, const std::string& message) {
  if (!condition) throw Error(message);
}

}  // namespace s2s
