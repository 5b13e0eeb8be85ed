// The NCCL communicator (ctest label `gpu`): the token-weighted scaled sum on device memory, one
// rank per GPU, with host collectives through its host communicator. One rank on one GPU, and
// two ranks (threads) on two GPUs where there are two. Skipped, never passed, without NCCL or a
// GPU.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "s2s/backend.h"
#include "s2s/communicator.h"
#include "s2s/error.h"
#include "thread_communicator.h"

#if S2S_WITH_NCCL
#include <cuda_runtime.h>
#endif

namespace s2s {
namespace {

#if S2S_WITH_NCCL

class Nccl : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0)
      GTEST_SKIP() << "no CUDA device usable (no GPU, or no NVIDIA driver): NCCL tests skipped";
  }
};

// values on the device, reduced, downloaded.
std::vector<float> reduce_on_device(const Communicator& comm, std::vector<float> values,
                                    double scale) {
  float* device = nullptr;
  EXPECT_EQ(cudaSetDevice(comm.cuda_device()), cudaSuccess);
  EXPECT_EQ(cudaMalloc(&device, values.size() * sizeof(float)), cudaSuccess);
  cudaMemcpy(device, values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice);
  comm.allreduce_scaled_sum_device(device, values.size(), scale);
  cudaMemcpy(values.data(), device, values.size() * sizeof(float), cudaMemcpyDeviceToHost);
  cudaFree(device);
  return values;
}

TEST_F(Nccl, OneRankScalesItsDeviceBuffer) {
  const auto comm = make_nccl_communicator(make_single_communicator());
  EXPECT_EQ(comm->size(), 1);
  EXPECT_TRUE(comm->reduces_device_memory());
  EXPECT_EQ(comm->cuda_device(), 0);
  std::vector<float> values(100001);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = float(i % 977) - 300.0f;
  const std::vector<float> reduced = reduce_on_device(*comm, values, 0.25);
  for (std::size_t i = 0; i < values.size(); ++i)
    ASSERT_EQ(reduced[i], values[i] * 0.25f) << "index " << i;  // a power of two: exact
  double host[2] = {1.5, 2.5};
  comm->allreduce(host, 2, ReduceOp::sum);  // through the host communicator
  EXPECT_EQ(host[0], 1.5);
}

TEST_F(Nccl, TwoRanksOnTwoGpusSumTheirWeightedBuffers) {
  if (cuda_device_count() < 2) GTEST_SKIP() << "needs 2 GPUs (found " << cuda_device_count() << ")";
  std::vector<std::vector<float>> results(2);
  testing::run_ranks(2, [&](const Communicator& host) {
    // The host communicator is borrowed: a no-op deleter.
    const auto comm = make_nccl_communicator(
        std::shared_ptr<const Communicator>(&host, [](const Communicator*) {}));
    EXPECT_EQ(comm->cuda_device(), host.rank());
    // rank r holds r + 1 everywhere and weights it by 1 / (r + 1): the sum is 2.
    const float mine = host.rank() + 1.0f;
    results[host.rank()] = reduce_on_device(*comm, std::vector<float>(4097, mine), 1.0 / mine);
  });
  for (const auto& r : results)
    for (float v : r) ASSERT_NEAR(v, 2.0f, 1e-6f);
}

#else

TEST(Nccl, NotBuilt) {
  EXPECT_FALSE(nccl_built());
  EXPECT_THROW(make_nccl_communicator(make_single_communicator()), Error);
  GTEST_SKIP() << "s2s was built without NCCL: NCCL tests skipped";
}

#endif

}  // namespace
}  // namespace s2s
