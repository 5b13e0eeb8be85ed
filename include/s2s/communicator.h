// Communicator: what data-parallel training needs from a transport (rank, size, allreduce,
// broadcast, barrier), backed by nothing (one process), Open MPI or NCCL. The model and the
// trainer call only this interface; no MPI or NCCL header appears here (an application that
// passes its own MPI_Comm includes s2s/communicator_mpi.h, installed when s2s has MPI).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace s2s {

enum class ReduceOp { sum, min, max };

// One rank's view of a group of processes that train one model. Every collective must be called
// by every rank of the group in the same order with the same count (MPI's rule); a mismatch is a
// bug that may hang, which is why the trainer checks its ranks agree before its first step.
// Failures throw Error naming the call and the rank.
class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;  // 0 .. size()-1
  virtual int size() const = 0;  // ranks in the group (1 for a single process)
  // Rank among the group's processes on this node, and how many share the node (the GPU a rank
  // uses is picked from it).
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  // "single process", "Open MPI, 4 ranks", "NCCL, 8 ranks on device 3", ...
  virtual std::string description() const = 0;

  // ---- host memory (every communicator) -------------------------------------------------------
  // In place: data[i] becomes the reduction of data[i] over all ranks, the same on every rank.
  virtual void allreduce(float* data, std::size_t count, ReduceOp op = ReduceOp::sum) const = 0;
  virtual void allreduce(double* data, std::size_t count, ReduceOp op = ReduceOp::sum) const = 0;
  virtual void allreduce(std::int64_t* data, std::size_t count,
                         ReduceOp op = ReduceOp::sum) const = 0;
  // In place: data[i] becomes sum over ranks r of scale_r * data_r[i], where each rank passes its
  // own scale. A token-weighted mean of per-rank means is scale_r = tokens_r / tokens_total.
  virtual void allreduce_scaled_sum(float* data, std::size_t count, double scale) const = 0;
  virtual void allreduce_scaled_sum(double* data, std::size_t count, double scale) const = 0;
  // The mean over ranks (every rank weighted alike).
  void allreduce_average(float* data, std::size_t count) const {
    allreduce_scaled_sum(data, count, 1.0 / size());
  }
  void allreduce_average(double* data, std::size_t count) const {
    allreduce_scaled_sum(data, count, 1.0 / size());
  }
  // Copies root's `bytes` bytes at data to every other rank's data.
  virtual void broadcast(void* data, std::size_t bytes, int root = 0) const = 0;
  virtual void barrier() const = 0;

  // ---- device memory (communicators that say so: NCCL) ----------------------------------------
  // Whether allreduce_scaled_sum_device takes pointers into the CUDA device cuda_device().
  virtual bool reduces_device_memory() const { return false; }
  virtual int cuda_device() const { return -1; }
  // As allreduce_scaled_sum, on device memory; returns when the result is in place. Throws Error
  // unless reduces_device_memory().
  virtual void allreduce_scaled_sum_device(float* device_data, std::size_t count,
                                           double scale) const;

  // Ends every rank of the group with exit_code (MPI_Abort), so that one rank's failure never
  // leaves the others waiting in a collective. For applications (the s2s tool calls it after
  // printing an error); the library itself never calls it. A single process exits.
  [[noreturn]] virtual void abort(int exit_code) const noexcept = 0;
};

// Whether this s2s was built with Open MPI / NCCL support (S2S_ENABLE_MPI / S2S_ENABLE_NCCL).
bool mpi_built();
bool nccl_built();

// Ranks the environment says this process was started with by an MPI launcher (mpirun, srun,
// mpiexec: OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_SIZE, MPI_LOCALNRANKS; with only PMIX_RANK or
// PMI_RANK, Slurm's SLURM_NTASKS or 1); 0 when it was not.
int launcher_world_size();

// One process, no transport: every collective leaves the data as it is (a scaled sum scales).
std::unique_ptr<Communicator> make_single_communicator();

// The job's processes: MPI_COMM_WORLD (duplicated) when an MPI launcher started this process and
// s2s has MPI, initialising MPI unless the application has (and then finalising it when the
// last such communicator is destroyed); a single-process communicator otherwise. Throws Error
// when a launcher started several ranks but s2s was built without MPI (each rank would train
// alone and they would overwrite each other's files).
std::unique_ptr<Communicator> make_world_communicator();

// NCCL over the ranks of `host` (which bootstraps NCCL and serves the host-memory collectives):
// one CUDA device per rank, device local_rank() mod the node's device count. Throws Error when
// s2s was built without NCCL or the node has no usable GPU, or when a node has more ranks than
// GPUs.
std::unique_ptr<Communicator> make_nccl_communicator(std::shared_ptr<const Communicator> host);

}  // namespace s2s
