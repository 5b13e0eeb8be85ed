// The processes of one `s2s train` run: the world (MPI when an MPI launcher started this process,
// one process otherwise), NCCL over it for CUDA ranks, and how a failing rank ends all of them.
#pragma once

#include <functional>
#include <memory>

#include "s2s/backend.h"
#include "s2s/communicator.h"

namespace s2s::cli {

class TrainingRanks {
 public:
  TrainingRanks();  // initialises MPI under a launcher (Error when s2s has no MPI then)

  const Communicator& world() const { return *world_; }
  // The communicator the trainer uses with `backend`: NCCL over the world for several CUDA ranks
  // when s2s has NCCL (this process's models then use the rank's GPU), the world otherwise.
  const Communicator& for_backend(BackendKind backend);

  // Runs body and returns its status. With several ranks an exception is printed as
  // "s2s: error: rank R of N: ..." and ends every rank (MPI_Abort, exit status 1), so that no
  // rank waits forever in a collective for the one that failed.
  int run(const std::function<int()>& body) const;

 private:
  std::shared_ptr<const Communicator> world_;
  std::unique_ptr<Communicator> gpus_;
};

}  // namespace s2s::cli
