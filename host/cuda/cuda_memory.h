// Memory on one CUDA device: cudaMalloc/cudaFree/cudaMemcpy behind the backend's Memory
// interface. Ownership lives in s2s::Buffer<T> (include/s2s/buffer.h), the move-only RAII array
// over any Memory; this class only allocates, copies and frees. No CUDA types in this header.
#pragma once

#include <cstddef>

#include "s2s/backend.h"

namespace s2s::cuda {

class CudaMemory final : public Memory {
 public:
  // Throws Error when `device` is not a usable CUDA device (saying how many there are).
  explicit CudaMemory(int device);
  CudaMemory(const CudaMemory&) = delete;
  CudaMemory& operator=(const CudaMemory&) = delete;

  int device() const { return device_; }

  // Throws Error naming the byte count (and the device's free and total memory) when the
  // device cannot provide it. 0 bytes gives nullptr.
  void* allocate(std::size_t bytes) override;
  // Never throws: a failing cudaFree (other than at process exit) is reported on stderr.
  void release(void* pointer) noexcept override;
  // Synchronous copies (the host side is ordinary pageable memory).
  void upload(void* destination, const void* host_source, std::size_t bytes) override;
  void download(void* host_destination, const void* source, std::size_t bytes) override;
  void copy(void* destination, const void* source, std::size_t bytes) override;
  void zero(void* destination, std::size_t bytes) override;
  void synchronize() override;

 private:
  int device_;
};

}  // namespace s2s::cuda
