// The NCCL communicator: gradients reduced in device memory by NCCL (one GPU per rank), host
// collectives and NCCL's bootstrap (the unique id) through a host communicator (MPI).
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "s2s/communicator.h"
#include "s2s/error.h"

namespace s2s {

namespace {
void check_cuda(cudaError_t code, const char* call, int rank) {
  if (code != cudaSuccess)
    throw Error(std::string(call) + " failed on rank " + std::to_string(rank) + ": " +
                cudaGetErrorString(code));
}
void check_nccl(ncclResult_t code, const char* call, int rank) {
  if (code != ncclSuccess)
    throw Error(std::string(call) + " failed on rank " + std::to_string(rank) + ": " +
                ncclGetErrorString(code));
}

class NcclCommunicator final : public Communicator {
 public:
  explicit NcclCommunicator(std::shared_ptr<const Communicator> host) : host_(std::move(host)) {
    require(host_ != nullptr, "make_nccl_communicator: no host communicator given");
    const int rank = host_->rank();
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess) devices = 0;
    cudaGetLastError();
    require(devices > 0, "NCCL: rank " + std::to_string(rank) + " sees no usable CUDA device");
    require(host_->local_size() <= devices,
            "NCCL: " + std::to_string(host_->local_size()) + " ranks share a node with " +
                std::to_string(devices) + " GPUs (allowed: at most one rank per GPU)");
    device_ = host_->local_rank() % devices;
    check_cuda(cudaSetDevice(device_), "cudaSetDevice", rank);
    ncclUniqueId id{};
    if (rank == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId", rank);
    host_->broadcast(&id, sizeof id, 0);
    check_nccl(ncclCommInitRank(&comm_, host_->size(), id, rank), "ncclCommInitRank", rank);
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate",
               rank);
  }

  ~NcclCommunicator() override {
    if (stream_ != nullptr && cudaStreamDestroy(stream_) != cudaSuccess)
      std::fprintf(stderr, "s2s: warning: cudaStreamDestroy failed in ~NcclCommunicator\n");
    if (comm_ != nullptr && ncclCommDestroy(comm_) != ncclSuccess)
      std::fprintf(stderr, "s2s: warning: ncclCommDestroy failed\n");
  }

  int rank() const override { return host_->rank(); }
  int size() const override { return host_->size(); }
  int local_rank() const override { return host_->local_rank(); }
  int local_size() const override { return host_->local_size(); }
  std::string description() const override {
    return "NCCL, " + std::to_string(size()) + " ranks, this one on GPU " +
           std::to_string(device_) + " (host collectives: " + host_->description() + ")";
  }

  void allreduce(float* d, std::size_t n, ReduceOp op) const override {
    host_->allreduce(d, n, op);
  }
  void allreduce(double* d, std::size_t n, ReduceOp op) const override {
    host_->allreduce(d, n, op);
  }
  void allreduce(std::int64_t* d, std::size_t n, ReduceOp op) const override {
    host_->allreduce(d, n, op);
  }
  void allreduce_scaled_sum(float* d, std::size_t n, double s) const override {
    host_->allreduce_scaled_sum(d, n, s);
  }
  void allreduce_scaled_sum(double* d, std::size_t n, double s) const override {
    host_->allreduce_scaled_sum(d, n, s);
  }
  void broadcast(void* data, std::size_t bytes, int root) const override {
    host_->broadcast(data, bytes, root);
  }
  void barrier() const override { host_->barrier(); }

  bool reduces_device_memory() const override { return true; }
  int cuda_device() const override { return device_; }

  // NCCL's PreMulSum multiplies each rank's input by that rank's scalar before summing: the
  // token-weighted mean in one pass, without a separate scaling kernel.
  void allreduce_scaled_sum_device(float* data, std::size_t count, double scale) const override {
    const int r = rank();
    float factor = static_cast<float>(scale);
    ncclRedOp_t op;
    check_nccl(ncclRedOpCreatePreMulSum(&op, &factor, ncclFloat32, ncclScalarHostImmediate, comm_),
               "ncclRedOpCreatePreMulSum", r);
    const ncclResult_t reduced =
        ncclAllReduce(data, data, count, ncclFloat32, op, comm_, stream_);
    ncclRedOpDestroy(op, comm_);
    check_nccl(reduced, "ncclAllReduce", r);
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (after ncclAllReduce)", r);
  }

  [[noreturn]] void abort(int exit_code) const noexcept override {
    if (comm_ != nullptr) ncclCommAbort(comm_);
    host_->abort(exit_code);
    std::_Exit(exit_code);  // not reached: the host communicator ends the process
  }

 private:
  std::shared_ptr<const Communicator> host_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  int device_ = 0;
};
}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(std::shared_ptr<const Communicator> host) {
  return std::make_unique<NcclCommunicator>(std::move(host));
}

}  // namespace s2s
