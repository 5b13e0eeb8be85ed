// The Open MPI communicator inside the library (host/parallel/comm_mpi.cpp); the public factory
// that takes an application's MPI_Comm is in include/s2s/communicator_mpi.h.
#pragma once

#include <memory>

#include "s2s/communicator.h"

namespace s2s {

// MPI_COMM_WORLD, initialising MPI when nobody has (and finalising it when the last
// communicator that needed it is destroyed).
std::unique_ptr<Communicator> make_mpi_world_communicator();

}  // namespace s2s
