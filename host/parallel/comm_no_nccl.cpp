// make_nccl_communicator in a build without NCCL: a clear refusal.
#include "s2s/communicator.h"
#include "s2s/error.h"

namespace s2s {

std::unique_ptr<Communicator> make_nccl_communicator(std::shared_ptr<const Communicator>) {
  throw Error("NCCL was asked for, but this s2s was built without NCCL (rebuild with CUDA and "
              "-DS2S_ENABLE_NCCL=ON where NCCL is installed)");
}

}  // namespace s2s
