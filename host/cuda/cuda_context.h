// What the CUDA backend computes with on one device: move-only RAII owners of a stream, a cuBLAS
// handle and events, and CudaContext, which ties a stream, a cuBLAS handle bound to it (with its
// own workspace) and a growable scratch area together. Internal to host/cuda/ (and the GPU
// tests and benchmarks); includes CUDA headers.
//
// Ordering with Memory: the stream is non-blocking (it never waits for, nor holds up, the legacy
// default stream, so other libraries' work in the process does not serialise with ours), and
// CudaOps' CudaMemory queues its copies and memsets on this same stream. That is what lets the
// model upload a batch, queue ops and download a loss with one wait, in the download.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <memory>

namespace s2s::cuda {

// A non-blocking stream on the device current at construction. Throws Error when it cannot be
// created.
class CudaStream {
 public:
  CudaStream();
  ~CudaStream();
  CudaStream(CudaStream&& other) noexcept;
  CudaStream& operator=(CudaStream&& other) noexcept;
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;

  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

// A timing event on the device current at construction.
class CudaEvent {
 public:
  CudaEvent();
  ~CudaEvent();
  CudaEvent(CudaEvent&& other) noexcept;
  CudaEvent& operator=(CudaEvent&& other) noexcept;
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;

  cudaEvent_t get() const { return event_; }
  // Marks the point in `stream` after everything queued so far (nullptr: the legacy default
  // stream, which waits for every blocking stream of the device).
  void record(cudaStream_t stream);
  // Blocks the host until the recorded point is reached.
  void synchronize();
  // Milliseconds between two recorded (and reached) events.
  static float elapsed_ms(const CudaEvent& start, const CudaEvent& stop);

 private:
  cudaEvent_t event_ = nullptr;
};

// A cuBLAS handle on the device current at construction.
class CublasHandle {
 public:
  CublasHandle();
  ~CublasHandle();
  CublasHandle(CublasHandle&& other) noexcept;
  CublasHandle& operator=(CublasHandle&& other) noexcept;
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;

  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

struct CudaContextOptions {
  // TF32 tensor-core GEMMs (inputs rounded to a 10-bit mantissa): faster, not exact float32.
  // Off by default: DESIGN.md allows TF32 only as an explicit option, never silently
  // (Precision::tf32 through make_cuda_ops, the model's constructor or `--precision tf32`).
  bool allow_tf32 = false;
};

// Everything ops on one device queue work with. The cuBLAS handle is bound to the stream, has
// its own workspace (so its choice of algorithm does not depend on a shared pool), pointer mode
// host, atomics not allowed, and math mode CUBLAS_DEFAULT_MATH (exact float32) unless
// allow_tf32. With one stream and a fixed workspace, cuBLAS gives bit-identical results from run
// to run on the same GPU model and toolkit.
class CudaContext {
 public:
  // Throws Error when the device cannot be used or a resource cannot be created. The device is
  // current only during construction; callers make it current around their own calls.
  explicit CudaContext(int device, CudaContextOptions options = {});
  ~CudaContext();
  CudaContext(CudaContext&&) noexcept;
  CudaContext& operator=(CudaContext&&) noexcept;
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  int device() const;
  const CudaContextOptions& options() const;
  cudaStream_t stream() const;
  cublasHandle_t blas() const;

  // At least `bytes` of device scratch, 256-byte aligned, for work queued on stream(): valid
  // until the next call. Growing frees the old block in stream order (after the work queued so
  // far has used it) and allocates stream-ordered where the device supports memory pools, so
  // nothing waits. Throws Error naming the size when the device cannot provide it.
  void* scratch(std::size_t bytes);

  // Blocks until everything queued on the stream is done.
  void synchronize();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace s2s::cuda
