// The single-process communicator, the launcher detection, and the parts of the Communicator
// interface every transport shares.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "s2s/communicator.h"
#include "s2s/error.h"

namespace s2s {

namespace {
class SingleCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  std::string description() const override { return "single process"; }
  void allreduce(float*, std::size_t, ReduceOp) const override {}
  void allreduce(double*, std::size_t, ReduceOp) const override {}
  void allreduce(std::int64_t*, std::size_t, ReduceOp) const override {}
  void allreduce_scaled_sum(float* data, std::size_t count, double scale) const override {
    scale_in_place(data, count, scale);
  }
  void allreduce_scaled_sum(double* data, std::size_t count, double scale) const override {
    scale_in_place(data, count, scale);
  }
  void broadcast(void*, std::size_t, int root) const override {
    require(root == 0, "broadcast: root is " + std::to_string(root) +
                           " (allowed: 0, the only rank of a single process)");
  }
  void barrier() const override {}
  [[noreturn]] void abort(int exit_code) const noexcept override { std::_Exit(exit_code); }

 private:
  template <typename T>
  static void scale_in_place(T* data, std::size_t count, double scale) {
    if (scale == 1.0) return;
    for (std::size_t i = 0; i < count; ++i) data[i] = static_cast<T>(data[i] * scale);
  }
};

// A positive integer from the environment, 0 when unset or not a number.
int positive_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return 0;
  char* end = nullptr;
  const long n = std::strtol(value, &end, 10);
  return *end == '\0' && n > 0 && n < (1L << 30) ? static_cast<int>(n) : 0;
}
}  // namespace

void Communicator::allreduce_scaled_sum_device(float*, std::size_t, double) const {
  throw Error("allreduce_scaled_sum_device: the communicator '" + description() +
              "' reduces host memory only (device buffers need the NCCL communicator)");
}

int launcher_world_size() {
  // Open MPI's mpirun, then PMI-1/2 (MPICH's hydra, Slurm's srun --mpi=pmi2), then PMIx.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"})
    if (const int n = positive_env(name)) return n;
  // Slurm's srun --mpi=pmix sets a rank but no size: take the job step's task count.
  if (std::getenv("PMIX_RANK") != nullptr || std::getenv("PMI_RANK") != nullptr)
    return std::max(1, positive_env("SLURM_NTASKS"));
  return 0;
}

std::unique_ptr<Communicator> make_single_communicator() {
  return std::make_unique<SingleCommunicator>();
}

}  // namespace s2s
