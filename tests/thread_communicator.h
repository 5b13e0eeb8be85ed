// Ranks as threads of one process, for testing data parallelism without MPI: a Communicator per
// thread over a shared group. Every collective sums the ranks' buffers in rank order on every
// thread, so all ranks get the same bits (as MPI's reductions do).
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "s2s/communicator.h"

namespace s2s::testing {

class ThreadGroup {
 public:
  explicit ThreadGroup(int size) : size_(size), slots_(size) {}
  int size() const { return size_; }

  // Blocks until every rank has arrived (a reusable barrier).
  void arrive() {
    std::unique_lock<std::mutex> lock(mutex_);
    const std::uint64_t generation = generation_;
    if (++waiting_ == size_) {
      waiting_ = 0;
      ++generation_;
      changed_.notify_all();
    } else {
      changed_.wait(lock, [&] { return generation_ != generation; });
    }
  }

  // Each rank publishes its buffer, all reduce in rank order, then all write their results.
  template <typename T>
  void reduce(int rank, T* data, std::size_t count, ReduceOp op) {
    slots_[rank] = data;
    arrive();
    std::vector<T> result(count);
    for (std::size_t i = 0; i < count; ++i) {
      T v = static_cast<T*>(slots_[0])[i];
      for (int r = 1; r < size_; ++r) {
        const T x = static_cast<T*>(slots_[r])[i];
        v = op == ReduceOp::sum ? v + x : op == ReduceOp::min ? std::min(v, x) : std::max(v, x);
      }
      result[i] = v;
    }
    arrive();  // nobody overwrites its buffer while another rank still reads it
    std::copy(result.begin(), result.end(), data);
    arrive();
  }

  void broadcast(int rank, void* data, std::size_t bytes, int root) {
    slots_[rank] = data;
    arrive();
    if (rank != root) std::memcpy(data, slots_[root], bytes);
    arrive();
  }

 private:
  int size_;
  std::vector<void*> slots_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  std::uint64_t generation_ = 0;
};

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return group_.size(); }
  int local_rank() const override { return rank_; }
  int local_size() const override { return group_.size(); }
  std::string description() const override { return "threads"; }
  void allreduce(float* d, std::size_t n, ReduceOp op) const override {
    group_.reduce(rank_, d, n, op);
  }
  void allreduce(double* d, std::size_t n, ReduceOp op) const override {
    group_.reduce(rank_, d, n, op);
  }
  void allreduce(std::int64_t* d, std::size_t n, ReduceOp op) const override {
    group_.reduce(rank_, d, n, op);
  }
  void allreduce_scaled_sum(float* d, std::size_t n, double s) const override { scaled(d, n, s); }
  void allreduce_scaled_sum(double* d, std::size_t n, double s) const override {
    scaled(d, n, s);
  }
  void broadcast(void* data, std::size_t bytes, int root) const override {
    group_.broadcast(rank_, data, bytes, root);
  }
  void barrier() const override { group_.arrive(); }
  [[noreturn]] void abort(int) const noexcept override { std::terminate(); }

 private:
  template <typename T>
  void scaled(T* d, std::size_t n, double s) const {
    for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<T>(d[i] * s);
    group_.reduce(rank_, d, n, ReduceOp::sum);
  }
  ThreadGroup& group_;
  int rank_;
};

// Runs body(comm) on `size` threads, one rank each; rethrows the first rank's exception.
inline void run_ranks(int size, const std::function<void(const Communicator&)>& body) {
  ThreadGroup group(size);
  std::vector<std::exception_ptr> errors(size);
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r)
    threads.emplace_back([&, r] {
      ThreadCommunicator comm(group, r);
      try {
        body(comm);
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace s2s::testing
