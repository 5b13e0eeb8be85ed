// Checked CUDA runtime and cuBLAS calls: every failure becomes an s2s::Error that names the
// statement, the file and line, and the error's name and message (DESIGN.md, "Errors").
// Internal to the library (host/cuda/ and kernels/ only): never include it from include/.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstring>
#include <string>

#include "s2s/error.h"

// S2S_CUDA_CHECK(cudaMalloc(&p, bytes)); S2S_CUDA_CHECK(cublasSgemm(handle, ...));
// One macro for both APIs: the status type picks the overload.
#define S2S_CUDA_CHECK(statement) \
  ::s2s::cuda::check_status((statement), #statement, __FILE__, __LINE__)
#define S2S_CUBLAS_CHECK(statement) S2S_CUDA_CHECK(statement)

// After every kernel launch: catches bad launch configurations at once. Debug builds (and builds
// with S2S_CUDA_SYNC_LAUNCHES defined) also synchronise, so that a fault inside the kernel is
// reported at its launch rather than at some later, unrelated call.
#define S2S_CUDA_CHECK_LAUNCH(kernel_name) \
  ::s2s::cuda::check_launch((kernel_name), __FILE__, __LINE__)

#if !defined(NDEBUG) || defined(S2S_CUDA_SYNC_LAUNCHES)
#define S2S_CUDA_LAUNCH_SYNC 1
#else
#define S2S_CUDA_LAUNCH_SYNC 0
#endif

namespace s2s::cuda {

// The path from the repository's host/ or kernels/ folder on: short, and the same on every
// machine (__FILE__ is absolute with CMake).
inline const char* source_location(const char* file) {
  const char* best = file;
  for (const char* marker : {"/host/", "/kernels/"}) {
    const char* found = std::strstr(file, marker);
    if (found != nullptr && (best == file || found < best)) best = found + 1;
  }
  return best;
}

inline std::string failure_message(const char* api, const char* statement, const char* file,
                                   int line, const char* name, const char* description) {
  return std::string(api) + " call failed at " + source_location(file) + ":" +
         std::to_string(line) + ": " + statement + " returned " + name + " (" + description +
         ")";
}

inline void check_status(cudaError_t status, const char* statement, const char* file, int line) {
  if (status == cudaSuccess) return;
  // Clears the runtime's last-error state for non-sticky errors, so the next check does not
  // report this one again.
  cudaGetLastError();
  throw Error(failure_message("CUDA", statement, file, line, cudaGetErrorName(status),
                              cudaGetErrorString(status)));
}

inline void check_status(cublasStatus_t status, const char* statement, const char* file,
                         int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw Error(failure_message("cuBLAS", statement, file, line, cublasGetStatusName(status),
                              cublasGetStatusString(status)));
}

inline void check_launch(const char* kernel_name, const char* file, int line) {
  cudaError_t status = cudaGetLastError();
  if (status == cudaSuccess && S2S_CUDA_LAUNCH_SYNC) status = cudaDeviceSynchronize();
  if (status == cudaSuccess) return;
  cudaGetLastError();
  const std::string statement = std::string("launch of ") + kernel_name;
  throw Error(failure_message("CUDA", statement.c_str(), file, line, cudaGetErrorName(status),
                              cudaGetErrorString(status)));
}

}  // namespace s2s::cuda
