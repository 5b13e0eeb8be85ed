// The collective check that every rank of a data-parallel run starts from the same settings,
// data and model, so that a mismatch is refused with a message instead of a hang or a silently
// wrong model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "s2s/communicator.h"

namespace s2s {

// One value every rank must share: what it is ("the training data's size"), the value (a count
// or a hash) and how to show it to a user.
struct AgreementField {
  std::string what;
  std::int64_t value = 0;
  std::string shown;
};

// Compares every rank's fields with rank 0's (a broadcast and one allreduce). Throws Error on
// every rank when some rank differs, naming the field and the first rank that differs; that
// rank's message also shows its value and rank 0's. Every rank must pass the same fields in the
// same order.
void require_ranks_agree(const Communicator& comm, const std::vector<AgreementField>& fields,
                         const std::string& context);

// 64-bit FNV-1a over bytes, continuing from `hash` (start with kHashSeed).
constexpr std::uint64_t kHashSeed = 14695981039346656037ull;
std::uint64_t hash_bytes(const void* data, std::size_t bytes, std::uint64_t hash = kHashSeed);
inline std::int64_t as_field(std::uint64_t hash) { return static_cast<std::int64_t>(hash); }

}  // namespace s2s
