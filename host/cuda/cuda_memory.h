// Memory on one CUDA device: cudaMalloc/cudaFree/cudaMemcpy behind the backend's Memory
// interface. Ownership lives in s2s::Buffer<T> (include/s2s/buffer.h), the move-only RAII array
// over any Memory; this class only allocates, copies and frees. No CUDA types in this header.
#pragma once

#include <cstddef>

#include "kernels/stream.h"
#include "s2s/backend.h"

namespace s2s::cuda {

class CudaMemory final : public Memory {
 public:
  // Throws Error when `device` is not a usable CUDA device (saying how many there are).
  // stream: where copies and memsets are queued (CudaOps passes its context's stream, so that
  // memory operations are ordered with the ops without touching the legacy default stream);
  // nullptr: the legacy default stream, every call synchronous.
  explicit CudaMemory(int device, Stream stream = nullptr);
  CudaMemory(const CudaMemory&) = delete;
  CudaMemory& operator=(const CudaMemory&) = delete;

  int device() const { return device_; }

  // Throws Error naming the byte count (and the device's free and total memory) when the
  // device cannot provide it. 0 bytes gives nullptr.
  void* allocate(std::size_t bytes) override;
  // Never throws: a failing cudaFree (other than at process exit) is reported on stderr.
  void release(void* pointer) noexcept override;
  // upload returns once the host bytes are staged (the caller may reuse them); download waits
  // for the stream (the one device-to-host synchronisation of a call); copy and zero are queued.
  void upload(void* destination, const void* host_source, std::size_t bytes) override;
  void download(void* host_destination, const void* source, std::size_t bytes) override;
  void copy(void* destination, const void* source, std::size_t bytes) override;
  void zero(void* destination, std::size_t bytes) override;
  void synchronize() override;

 private:
  int device_;
  Stream stream_;
};

}  // namespace s2s::cuda
