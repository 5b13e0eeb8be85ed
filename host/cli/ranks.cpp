// Data-parallel `s2s train`: choosing the communicator, and ending all ranks on one's failure.
#include "cli/ranks.h"

#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include <fmt/format.h>

#include "s2s/error.h"

namespace s2s::cli {

TrainingRanks::TrainingRanks() : world_(make_world_communicator()) {}

const Communicator& TrainingRanks::for_backend(BackendKind backend) {
  if (backend != BackendKind::cuda || world_->size() == 1 || !nccl_built()) return *world_;
  if (!gpus_) {
    gpus_ = make_nccl_communicator(world_);
    set_cuda_device(gpus_->cuda_device());
  }
  return *gpus_;
}

int TrainingRanks::run(const std::function<int()>& body) const {
  if (world_->size() == 1) return body();
  std::string message;
  try {
    return body();
  } catch (const std::bad_alloc&) {
    message = "out of memory";
  } catch (const std::exception& e) {
    message = e.what();
  }
  std::fflush(stdout);
  fmt::print(stderr, "s2s: error: rank {} of {}: {}\n", world_->rank(), world_->size(), message);
  std::fflush(stderr);
  const Communicator& active = gpus_ ? *gpus_ : *world_;
  active.abort(1);
  return 1;  // not reached: abort ends the process
}

}  // namespace s2s::cli
