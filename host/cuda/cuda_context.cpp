// CudaStream, CudaEvent, CublasHandle and CudaContext (host/cuda/cuda_context.h).
#include "cuda/cuda_context.h"

#include <cstdio>
#include <string>
#include <utility>

#include "cuda/cuda_check.h"
#include "cuda/cuda_device_scope.h"
#include "s2s/error.h"

namespace s2s::cuda {
namespace {

// Destructors never throw: a failure is reported on stderr, except at process exit, when the
// runtime may already be gone (and nothing leaks).
void warn_if_failed(cudaError_t status, const char* what) noexcept {
  if (status == cudaSuccess) return;
  cudaGetLastError();
  if (status == cudaErrorCudartUnloading) return;
  std::fprintf(stderr, "s2s: warning: %s failed: %s (%s)\n", what, cudaGetErrorName(status),
               cudaGetErrorString(status));
}

void warn_if_failed(cublasStatus_t status, const char* what) noexcept {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  std::fprintf(stderr, "s2s: warning: %s failed: %s\n", what, cublasGetStatusName(status));
}

// cuBLAS's recommended workspace: 32 MiB on Hopper and later, 4 MiB before.
std::size_t blas_workspace_bytes(int device) {
  int major = 0;
  S2S_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  return (major >= 9 ? 32u : 4u) * 1024u * 1024u;
}

constexpr std::size_t kScratchGranule = std::size_t{1} << 20;

}  // namespace

// ---- CudaStream ---------------------------------------------------------------------------

CudaStream::CudaStream() {
  S2S_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
}
CudaStream::~CudaStream() {
  if (stream_ != nullptr) warn_if_failed(cudaStreamDestroy(stream_), "cudaStreamDestroy");
}
CudaStream::CudaStream(CudaStream&& other) noexcept
    : stream_(std::exchange(other.stream_, nullptr)) {}
CudaStream& CudaStream::operator=(CudaStream&& other) noexcept {
  std::swap(stream_, other.stream_);
  return *this;
}

// ---- CudaEvent ----------------------------------------------------------------------------

CudaEvent::CudaEvent() { S2S_CUDA_CHECK(cudaEventCreate(&event_)); }
CudaEvent::~CudaEvent() {
  if (event_ != nullptr) warn_if_failed(cudaEventDestroy(event_), "cudaEventDestroy");
}
CudaEvent::CudaEvent(CudaEvent&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}
CudaEvent& CudaEvent::operator=(CudaEvent&& other) noexcept {
  std::swap(event_, other.event_);
  return *this;
}
void CudaEvent::record(cudaStream_t stream) { S2S_CUDA_CHECK(cudaEventRecord(event_, stream)); }
void CudaEvent::synchronize() { S2S_CUDA_CHECK(cudaEventSynchronize(event_)); }
float CudaEvent::elapsed_ms(const CudaEvent& start, const CudaEvent& stop) {
  float ms = 0.0f;
  S2S_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, stop.event_));
  return ms;
}

// ---- CublasHandle -------------------------------------------------------------------------

CublasHandle::CublasHandle() { S2S_CUBLAS_CHECK(cublasCreate(&handle_)); }
CublasHandle::~CublasHandle() {
  if (handle_ != nullptr) warn_if_failed(cublasDestroy(handle_), "cublasDestroy");
}
CublasHandle::CublasHandle(CublasHandle&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)) {}
CublasHandle& CublasHandle::operator=(CublasHandle&& other) noexcept {
  std::swap(handle_, other.handle_);
  return *this;
}

// ---- CudaContext --------------------------------------------------------------------------

// Restores the caller's current device after every other member of State is destroyed (it is
// the first member, so it goes last).
struct PreviousDevice {
  int device = -1;
  ~PreviousDevice() {
    if (device >= 0) cudaSetDevice(device);
  }
};

struct CudaContext::State {
  PreviousDevice previous;
  int device;
  CudaContextOptions options;
  // Declaration order is construction order; destruction runs backwards: the handle before its
  // workspace, both before the stream they use.
  CudaStream stream;
  void* blas_workspace = nullptr;
  CublasHandle blas;
  void* scratch = nullptr;
  std::size_t scratch_bytes = 0;
  bool pooled = false;  // scratch allocated stream-ordered (cudaMallocAsync)

  State(int d, CudaContextOptions o) : device(d), options(o) {}

  ~State() {
    int current = -1;
    if (cudaGetDevice(&current) == cudaSuccess && current != device &&
        cudaSetDevice(device) == cudaSuccess)
      previous.device = current;
    cudaGetLastError();
    release_scratch();
    if (blas_workspace != nullptr) {
      // The handle still refers to the workspace until it is destroyed; detach it first.
      warn_if_failed(cublasSetWorkspace(blas.get(), nullptr, 0), "cublasSetWorkspace");
      warn_if_failed(cudaFree(blas_workspace), "cudaFree (cuBLAS workspace)");
    }
  }

  void release_scratch() noexcept {
    if (scratch == nullptr) return;
    if (pooled) warn_if_failed(cudaFreeAsync(scratch, stream.get()), "cudaFreeAsync (scratch)");
    else warn_if_failed(cudaFree(scratch), "cudaFree (scratch)");
    scratch = nullptr;
    scratch_bytes = 0;
  }
};

CudaContext::CudaContext(int device, CudaContextOptions options) {
  DeviceScope scope(device);
  auto state = std::make_unique<State>(device, options);
  int pools = 0;
  S2S_CUDA_CHECK(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, device));
  state->pooled = pools != 0;

  cublasHandle_t handle = state->blas.get();
  // cublasSetStream resets the workspace to cuBLAS's default pool: bind the stream first.
  S2S_CUBLAS_CHECK(cublasSetStream(handle, state->stream.get()));
  const std::size_t workspace_bytes = blas_workspace_bytes(device);
  S2S_CUDA_CHECK(cudaMalloc(&state->blas_workspace, workspace_bytes));
  S2S_CUBLAS_CHECK(cublasSetWorkspace(handle, state->blas_workspace, workspace_bytes));
  S2S_CUBLAS_CHECK(cublasSetPointerMode(handle, CUBLAS_POINTER_MODE_HOST));
  S2S_CUBLAS_CHECK(cublasSetAtomicsMode(handle, CUBLAS_ATOMICS_NOT_ALLOWED));
  S2S_CUBLAS_CHECK(cublasSetMathMode(
      handle, options.allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  state_ = std::move(state);
}

CudaContext::~CudaContext() = default;
CudaContext::CudaContext(CudaContext&&) noexcept = default;
CudaContext& CudaContext::operator=(CudaContext&&) noexcept = default;

int CudaContext::device() const { return state_->device; }
const CudaContextOptions& CudaContext::options() const { return state_->options; }
cudaStream_t CudaContext::stream() const { return state_->stream.get(); }
cublasHandle_t CudaContext::blas() const { return state_->blas.get(); }

void* CudaContext::scratch(std::size_t bytes) {
  State& s = *state_;
  if (bytes <= s.scratch_bytes) return s.scratch;
  const std::size_t rounded = (bytes + kScratchGranule - 1) / kScratchGranule * kScratchGranule;
  DeviceScope scope(s.device);
  // Free first: in a pool the freed block can serve the new request.
  s.release_scratch();
  void* fresh = nullptr;
  const cudaError_t status = s.pooled ? cudaMallocAsync(&fresh, rounded, s.stream.get())
                                      : cudaMalloc(&fresh, rounded);
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw Error("CUDA device " + std::to_string(s.device) + ": cannot allocate " +
                std::to_string(rounded) + " bytes of scratch for the CUDA backend's ops: " +
                cudaGetErrorName(status) + " (" + cudaGetErrorString(status) +
                "). Use a smaller batch or model, or another device.");
  }
  s.scratch = fresh;
  s.scratch_bytes = rounded;
  return fresh;
}

void CudaContext::synchronize() {
  DeviceScope scope(state_->device);
  S2S_CUDA_CHECK(cudaStreamSynchronize(state_->stream.get()));
}

}  // namespace s2s::cuda
