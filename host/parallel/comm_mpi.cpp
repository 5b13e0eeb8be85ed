// The Open MPI communicator: collectives on a duplicate of a given MPI_Comm, each call checked
// (MPI_ERRORS_RETURN) and turned into an Error that names the call and the rank.
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstdint>
#include <string>

#include <mpi.h>

#include "parallel/comm_mpi.h"
#include "s2s/communicator_mpi.h"
#include "s2s/error.h"

namespace s2s {

namespace {
// MPI counts are int: larger buffers go in chunks of this many elements.
constexpr std::size_t kMaxChunk = std::size_t{1} << 30;

// Communicators that need MPI initialised by s2s; the last one destroyed finalises it.
int g_owned_users = 0;

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<std::size_t>(length));
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return MPI_SUM;
    case ReduceOp::min: return MPI_MIN;
    case ReduceOp::max: return MPI_MAX;
  }
  return MPI_SUM;
}

template <typename T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }
template <>
MPI_Datatype mpi_type<std::int64_t>() { return MPI_INT64_T; }

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, bool owns_mpi) : owns_mpi_(owns_mpi) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    require(initialised != 0, "make_mpi_communicator: MPI is not initialised (call MPI_Init "
                              "before passing a communicator to s2s)");
    check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
    MPI_Comm node;
    check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
          "MPI_Comm_split_type");
    MPI_Comm_rank(node, &local_rank_);
    MPI_Comm_size(node, &local_size_);
    MPI_Comm_free(&node);
  }

  ~MpiCommunicator() override {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised) MPI_Comm_free(&comm_);
    if (owns_mpi_ && --g_owned_users == 0 && !finalised) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  std::string description() const override {
    return "MPI, " + std::to_string(size_) + " ranks (" + std::to_string(local_size_) +
           " on this node)";
  }

  void allreduce(float* data, std::size_t count, ReduceOp op) const override {
    reduce(data, count, op);
  }
  void allreduce(double* data, std::size_t count, ReduceOp op) const override {
    reduce(data, count, op);
  }
  void allreduce(std::int64_t* data, std::size_t count, ReduceOp op) const override {
    reduce(data, count, op);
  }
  void allreduce_scaled_sum(float* data, std::size_t count, double scale) const override {
    scaled_sum(data, count, scale);
  }
  void allreduce_scaled_sum(double* data, std::size_t count, double scale) const override {
    scaled_sum(data, count, scale);
  }

  void broadcast(void* data, std::size_t bytes, int root) const override {
    require(root >= 0 && root < size_, "broadcast: root is " + std::to_string(root) +
                                           " (allowed: 0 to " + std::to_string(size_ - 1) + ")");
    auto* p = static_cast<char*>(data);
    for (std::size_t done = 0; done < bytes;) {
      const std::size_t n = std::min(kMaxChunk, bytes - done);
      check(MPI_Bcast(p + done, static_cast<int>(n), MPI_BYTE, root, comm_), "MPI_Bcast");
      done += n;
    }
  }

  void barrier() const override { check(MPI_Barrier(comm_), "MPI_Barrier"); }

  [[noreturn]] void abort(int exit_code) const noexcept override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; should it, end this rank anyway
  }

 private:
  template <typename T>
  void reduce(T* data, std::size_t count, ReduceOp op) const {
    for (std::size_t done = 0; done < count;) {
      const std::size_t n = std::min(kMaxChunk, count - done);
      check(MPI_Allreduce(MPI_IN_PLACE, data + done, static_cast<int>(n), mpi_type<T>(),
                          mpi_op(op), comm_),
            "MPI_Allreduce");
      done += n;
    }
  }

  template <typename T>
  void scaled_sum(T* data, std::size_t count, double scale) const {
    if (scale != 1.0)
      for (std::size_t i = 0; i < count; ++i) data[i] = static_cast<T>(data[i] * scale);
    reduce(data, count, ReduceOp::sum);
  }

  void check(int code, const char* call) const {
    if (code != MPI_SUCCESS)
      throw Error(std::string(call) + " failed on rank " + std::to_string(rank_) + " of " +
                  std::to_string(size_) + ": " + mpi_error_text(code));
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  bool owns_mpi_;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
};
}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(MPI_Comm comm) {
  return std::make_unique<MpiCommunicator>(comm, false);
}

std::unique_ptr<Communicator> make_mpi_world_communicator() {
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  require(!finalised, "MPI was finalised already; it cannot be started again in this process");
  bool owns = false;
  if (!initialised) {
    const int code = MPI_Init(nullptr, nullptr);
    require(code == MPI_SUCCESS, "MPI_Init failed: " + mpi_error_text(code));
    owns = true;
  } else {
    owns = g_owned_users > 0;  // s2s initialised it for an earlier communicator
  }
  if (owns) ++g_owned_users;
  try {
    return std::make_unique<MpiCommunicator>(MPI_COMM_WORLD, owns);
  } catch (...) {
    if (owns) --g_owned_users;
    throw;
  }
}

}  // namespace s2s
