// For HPC applications that run s2s inside their own MPI job: a Communicator over the
// application's MPI_Comm. Installed only when s2s was built with MPI (s2s_WITH_MPI in CMake).
#pragma once

#include <memory>

#include <mpi.h>

#include "s2s/communicator.h"

namespace s2s {

// A communicator over a duplicate of `comm` (MPI_Comm_dup: s2s's collectives never mix with the
// application's), with MPI_ERRORS_RETURN on the duplicate so that a failed call throws Error
// naming the call and the rank. MPI must be initialised and stay so while the communicator
// lives; it is freed (MPI_Comm_free) on destruction. Throws Error when MPI is not initialised.
std::unique_ptr<Communicator> make_mpi_communicator(MPI_Comm comm);

}  // namespace s2s
