# Optional data-parallel transports for s2s (include/s2s/communicator.h):
#   S2S_ENABLE_MPI   Open MPI (or any MPI) for CPU ranks and host collectives; ON when found.
#   S2S_ENABLE_NCCL  NCCL for GPU ranks; ON when the CUDA backend is built and NCCL is found
#                    (nccl.h and libnccl in the CUDA toolkit or the system paths).
# Sets S2S_WITH_MPI / S2S_WITH_NCCL (TRUE/FALSE), and NCCL_INCLUDE_DIR / NCCL_LIBRARY.
# Include after S2sCuda.
include_guard(GLOBAL)

# The C API from C++: MPI's deprecated C++ bindings are not used.
set(MPI_CXX_SKIP_MPICXX ON CACHE BOOL "Do not use MPI's C++ bindings")
if(NOT DEFINED S2S_ENABLE_MPI OR S2S_ENABLE_MPI)
  find_package(MPI COMPONENTS CXX QUIET)
endif()
option(S2S_ENABLE_MPI "Data-parallel training over MPI (mpirun -np N s2s train)" ${MPI_CXX_FOUND})
set(S2S_WITH_MPI FALSE)
if(S2S_ENABLE_MPI)
  if(NOT MPI_CXX_FOUND)
    message(FATAL_ERROR "S2S_ENABLE_MPI is ON but no MPI was found. Install Open MPI "
                        "(apt-get install openmpi-bin libopenmpi-dev, or scripts/setup.sh), or "
                        "configure with -DS2S_ENABLE_MPI=OFF.")
  endif()
  set(S2S_WITH_MPI TRUE)
  message(STATUS "s2s: MPI ON (MPI ${MPI_CXX_VERSION}, ${MPIEXEC_EXECUTABLE})")
else()
  message(STATUS "s2s: MPI OFF (single-process training only)")
endif()

set(_s2s_nccl_found FALSE)
if(S2S_WITH_CUDA AND (NOT DEFINED S2S_ENABLE_NCCL OR S2S_ENABLE_NCCL))
  get_filename_component(_s2s_cuda_root "${CUDAToolkit_BIN_DIR}" DIRECTORY)
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} "${_s2s_cuda_root}/include")
  find_library(NCCL_LIBRARY nccl HINTS "${CUDAToolkit_LIBRARY_DIR}" "${_s2s_cuda_root}/lib"
                                        "${_s2s_cuda_root}/lib64")
  if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(_s2s_nccl_found TRUE)
  endif()
endif()
option(S2S_ENABLE_NCCL "NCCL data parallelism across GPUs (needs the CUDA backend and MPI)"
       ${_s2s_nccl_found})
set(S2S_WITH_NCCL FALSE)
if(S2S_ENABLE_NCCL)
  if(NOT S2S_WITH_CUDA OR NOT _s2s_nccl_found)
    message(FATAL_ERROR "S2S_ENABLE_NCCL is ON but the CUDA backend is off or NCCL was not found "
                        "(looked for nccl.h and libnccl beside the CUDA toolkit and in the system "
                        "paths; set NCCL_INCLUDE_DIR and NCCL_LIBRARY), or configure with "
                        "-DS2S_ENABLE_NCCL=OFF.")
  endif()
  set(S2S_WITH_NCCL TRUE)
  message(STATUS "s2s: NCCL ON (${NCCL_LIBRARY})")
else()
  message(STATUS "s2s: NCCL OFF")
endif()
