// make_world_communicator: MPI when a launcher started this process and s2s has MPI, a single
// process otherwise; and which transports this build has.
#include <string>

#include "s2s/communicator.h"
#include "s2s/error.h"
#if S2S_WITH_MPI
#include "parallel/comm_mpi.h"
#endif

namespace s2s {

bool mpi_built() { return S2S_WITH_MPI != 0; }
bool nccl_built() { return S2S_WITH_NCCL != 0; }

std::unique_ptr<Communicator> make_world_communicator() {
  const int launched = launcher_world_size();
  if (launched == 0) return make_single_communicator();
#if S2S_WITH_MPI
  return make_mpi_world_communicator();
#else
  if (launched == 1) return make_single_communicator();
  throw Error("an MPI launcher started " + std::to_string(launched) +
              " ranks, but this s2s was built without MPI (rebuild with -DS2S_ENABLE_MPI=ON and "
              "Open MPI installed, or run one process without mpirun)");
#endif
}

}  // namespace s2s
