// CudaMemory (host/cuda/cuda_memory.h): device allocations and copies, every call checked.
#include "cuda/cuda_memory.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <string>

#include "cuda/cuda_check.h"
#include "cuda/cuda_device_scope.h"

namespace s2s::cuda {

namespace {

std::string gib(std::size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
  return text;
}

}  // namespace

CudaMemory::CudaMemory(int device, Stream stream) : device_(device), stream_(stream) {
  const int count = cuda_device_count();
  if (device < 0 || device >= count)
    throw Error("CUDA device " + std::to_string(device) + " does not exist: this machine has " +
                std::to_string(count) + " usable CUDA device" + (count == 1 ? "" : "s") +
                (count > 0 ? " (0 to " + std::to_string(count - 1) + ")" : ""));
}

void* CudaMemory::allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  DeviceScope scope(device_);
  void* pointer = nullptr;
  const cudaError_t status = cudaMalloc(&pointer, bytes);
  if (status == cudaSuccess) return pointer;
  cudaGetLastError();
  std::string message = "CUDA device " + std::to_string(device_) + ": cannot allocate " +
                        std::to_string(bytes) + " bytes (" + gib(bytes) + "): " +
                        cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")";
  std::size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess)
    message += "; the device has " + gib(free_bytes) + " free of " + gib(total_bytes);
  else
    cudaGetLastError();
  throw Error(message + ". Use a smaller batch or model, or another device.");
}

void CudaMemory::release(void* pointer) noexcept {
  if (pointer == nullptr) return;
  // cudaFree needs no current-device switch: the pointer identifies its device.
  const cudaError_t status = cudaFree(pointer);
  if (status == cudaSuccess) return;
  cudaGetLastError();
  // At process exit the runtime may already be gone; nothing is leaked then.
  if (status == cudaErrorCudartUnloading) return;
  std::fprintf(stderr, "s2s: warning: cudaFree on CUDA device %d failed: %s (%s)\n", device_,
               cudaGetErrorName(status), cudaGetErrorString(status));
}

void CudaMemory::upload(void* destination, const void* host_source, std::size_t bytes) {
  if (bytes == 0) return;
  DeviceScope scope(device_);
  // From pageable memory the runtime stages the bytes before returning: no device wait.
  S2S_CUDA_CHECK(
      cudaMemcpyAsync(destination, host_source, bytes, cudaMemcpyHostToDevice, stream_));
  if (stream_ == nullptr) S2S_CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

void CudaMemory::download(void* host_destination, const void* source, std::size_t bytes) {
  if (bytes == 0) return;
  DeviceScope scope(device_);
  S2S_CUDA_CHECK(
      cudaMemcpyAsync(host_destination, source, bytes, cudaMemcpyDeviceToHost, stream_));
  S2S_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void CudaMemory::copy(void* destination, const void* source, std::size_t bytes) {
  if (bytes == 0) return;
  DeviceScope scope(device_);
  S2S_CUDA_CHECK(cudaMemcpyAsync(destination, source, bytes, cudaMemcpyDeviceToDevice, stream_));
  if (stream_ == nullptr) S2S_CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

void CudaMemory::zero(void* destination, std::size_t bytes) {
  if (bytes == 0) return;
  DeviceScope scope(device_);
  S2S_CUDA_CHECK(cudaMemsetAsync(destination, 0, bytes, stream_));
  if (stream_ == nullptr) S2S_CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

void CudaMemory::synchronize() {
  DeviceScope scope(device_);
  if (stream_ != nullptr) S2S_CUDA_CHECK(cudaStreamSynchronize(stream_));
  else S2S_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace s2s::cuda
