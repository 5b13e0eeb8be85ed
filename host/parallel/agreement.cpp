// Rank agreement: rank 0's values broadcast, each rank compares, the first differing rank of
// each field found with one allreduce(min).
#include "parallel/agreement.h"

#include <string>

#include "s2s/error.h"

namespace s2s {

std::uint64_t hash_bytes(const void* data, std::size_t bytes, std::uint64_t hash) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) {
    hash ^= p[i];
    hash *= 1099511628211ull;
  }
  return hash;
}

void require_ranks_agree(const Communicator& comm, const std::vector<AgreementField>& fields,
                         const std::string& context) {
  if (comm.size() == 1 || fields.empty()) return;
  // Every rank must at least pass the same number of fields, or the broadcast below would not
  // match: compare that first.
  std::int64_t count[2] = {static_cast<std::int64_t>(fields.size()),
                           -static_cast<std::int64_t>(fields.size())};
  comm.allreduce(count, 2, ReduceOp::max);
  require(count[0] == -count[1], context + ": the ranks check different numbers of settings "
                                           "(are they running the same s2s build?)");
  std::vector<std::int64_t> root(fields.size());
  for (std::size_t k = 0; k < fields.size(); ++k) root[k] = fields[k].value;
  comm.broadcast(root.data(), root.size() * sizeof(std::int64_t), 0);
  std::vector<std::int64_t> first_differing(fields.size());
  for (std::size_t k = 0; k < fields.size(); ++k)
    first_differing[k] = fields[k].value != root[k] ? comm.rank() : comm.size();
  comm.allreduce(first_differing.data(), first_differing.size(), ReduceOp::min);
  for (std::size_t k = 0; k < fields.size(); ++k) {
    if (first_differing[k] == comm.size()) continue;
    std::string message = context + ": rank " + std::to_string(first_differing[k]) + " of " +
                          std::to_string(comm.size()) + " differs from rank 0 in its " +
                          fields[k].what;
    if (fields[k].value != root[k])
      message += " (this rank: " + fields[k].shown + "; rank 0: " +
                 (fields[k].shown == std::to_string(fields[k].value) ? std::to_string(root[k])
                                                                     : "another value") +
                 ")";
    throw Error(message + "; every rank must be started with the same flags and files");
  }
}

}  // namespace s2s
