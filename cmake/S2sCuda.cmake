# Optional CUDA for s2s: finds nvcc (also at /usr/local/cuda/bin/nvcc when it is not on PATH),
# sets the option S2S_ENABLE_CUDA (ON when a CUDA compiler works), and when it is ON enables
# CUDA with CMAKE_CUDA_ARCHITECTURES defaulting to 80;90 and finds the toolkit's libraries.
# Sets S2S_WITH_CUDA (TRUE/FALSE) and S2S_CUDA_ARCHITECTURES_DEFINE (the list with ',' for ';').
include_guard(GLOBAL)
include(CheckLanguage)

# The architecture default is fixed, never detected from a GPU at configure time: a build must
# not depend on the machine it was configured on. Override with -DCMAKE_CUDA_ARCHITECTURES=...
# or the CUDAARCHS environment variable.
set(S2S_DEFAULT_CUDA_ARCHITECTURES "80;90")

# An explicit -DS2S_ENABLE_CUDA=OFF skips the search entirely.
if(NOT DEFINED S2S_ENABLE_CUDA OR S2S_ENABLE_CUDA)
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
    find_program(S2S_NVCC_ON_PATH nvcc NO_CACHE)
    if(NOT S2S_NVCC_ON_PATH AND EXISTS /usr/local/cuda/bin/nvcc)
      # check_language runs a child CMake, which inherits the environment.
      set(ENV{CUDACXX} /usr/local/cuda/bin/nvcc)
    endif()
  endif()
  check_language(CUDA)
endif()

if(CMAKE_CUDA_COMPILER)
  set(_s2s_cuda_default ON)
else()
  set(_s2s_cuda_default OFF)
endif()
option(S2S_ENABLE_CUDA "Build the CUDA backend (needs the CUDA toolkit; no GPU needed to build)"
       ${_s2s_cuda_default})

set(S2S_WITH_CUDA FALSE)
set(S2S_CUDA_ARCHITECTURES_DEFINE "")
if(S2S_ENABLE_CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    message(FATAL_ERROR
      "S2S_ENABLE_CUDA is ON but no working CUDA compiler was found. Install the CUDA toolkit "
      "(or pass -DCMAKE_CUDA_COMPILER=/path/to/nvcc), or configure with -DS2S_ENABLE_CUDA=OFF. "
      "If you installed it after a first configure, remove CMAKE_CUDA_COMPILER from the cache.")
  endif()
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
    set(CMAKE_CUDA_ARCHITECTURES "${S2S_DEFAULT_CUDA_ARCHITECTURES}" CACHE STRING
        "CUDA architectures to compile for (s2s default: ${S2S_DEFAULT_CUDA_ARCHITECTURES})")
  endif()
  # The shared CUDA runtime for every target (CUDA::cudart is the shared one too): one runtime
  # per process, and no static copy mixed in by the link lines of targets that use libs2s.
  if(NOT DEFINED CMAKE_CUDA_RUNTIME_LIBRARY)
    set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
  endif()
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  set(CMAKE_CUDA_EXTENSIONS OFF)
  find_package(CUDAToolkit REQUIRED)
  set(S2S_WITH_CUDA TRUE)
  string(REPLACE ";" "," S2S_CUDA_ARCHITECTURES_DEFINE "${CMAKE_CUDA_ARCHITECTURES}")
  message(STATUS "s2s: CUDA backend ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures "
                 "${CMAKE_CUDA_ARCHITECTURES})")
else()
  message(STATUS "s2s: CUDA backend OFF")
endif()
