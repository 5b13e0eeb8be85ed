// Cost of the data-parallel gradient allreduce (Communicator::allreduce_scaled_sum on a float
// buffer, what every training step does once) against buffer size, on the ranks mpirun starts:
//   mpirun -np 2 build/bench_allreduce          (ranks on one node: shared-memory transport)
// Every rank runs every benchmark with the same fixed iteration count (a collective needs all
// ranks; Google Benchmark's adaptive count could differ between them); rank 0 reports. Counters:
//   bytes_per_second  algorithm bandwidth, buffer bytes / time
//   bus_bandwidth     NCCL's "bus bandwidth", 2 (N-1)/N * bytes / time: comparable across N and
//                     with link speeds (a ring allreduce moves that much per rank)
// docs/SCALING.md uses these figures in its throughput model.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "s2s/communicator.h"

namespace {

const s2s::Communicator* g_comm = nullptr;

// Iterations per size: enough for a stable mean, few enough that 16M floats take ~1 s.
std::int64_t iterations_for(std::int64_t floats) {
  if (floats <= (1 << 14)) return 2000;
  if (floats <= (1 << 18)) return 200;
  if (floats <= (1 << 22)) return 20;
  return 5;
}

void BM_allreduce_scaled_sum(benchmark::State& state) {
  const auto floats = static_cast<std::size_t>(state.range(0));
  std::vector<float> gradients(floats, 1.0f);
  const double scale = 1.0 / g_comm->size();
  g_comm->barrier();
  for (auto _ : state) {
    g_comm->allreduce_scaled_sum(gradients.data(), gradients.size(), scale);
    benchmark::DoNotOptimize(gradients.data());
  }
  const double bytes = static_cast<double>(floats) * sizeof(float);
  const int n = g_comm->size();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["ranks"] = n;
  state.counters["bus_bandwidth"] = benchmark::Counter(
      state.iterations() * bytes * 2.0 * (n - 1) / n, benchmark::Counter::kIsRate);
}

// 1K .. 16M floats (4 KB .. 64 MB), and 202,502: the pq-1000 model's parameters (LSTM 128,
// one-hot, repeat decoder; `s2s train --task pq --max-dashes 1000` prints the count). One
// registration per size, since the iteration count is per registration.
void register_sizes() {
  for (std::int64_t n : {1 << 10, 1 << 12, 1 << 14, 1 << 16, 202502, 1 << 18, 1 << 20, 1 << 22,
                         1 << 24})
    benchmark::RegisterBenchmark("BM_allreduce_scaled_sum", BM_allreduce_scaled_sum)
        ->Arg(n)
        ->Iterations(iterations_for(n))
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
}

// Reports nothing: ranks other than 0 run the same collectives silently.
class QuietReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  const auto comm = s2s::make_world_communicator();
  g_comm = comm.get();
  register_sizes();
  benchmark::Initialize(&argc, argv);
  if (comm->rank() == 0) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    QuietReporter quiet;
    benchmark::RunSpecifiedBenchmarks(&quiet);
  }
  benchmark::Shutdown();
  return 0;
}
