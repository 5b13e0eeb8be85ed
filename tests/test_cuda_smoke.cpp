// GPU smoke test (ctest label `gpu`): device memory, one real kernel against its CPU reference,
// and an allocation too large for the device. Skipped, never passed, without CUDA or a GPU.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "cuda/cuda_devices.h"
#include "kernels/fill.h"
#include "s2s/backend.h"
#include "s2s/buffer.h"
#include "s2s/error.h"

#if S2S_WITH_CUDA
#include "cuda/cuda_memory.h"
#endif

namespace s2s {
namespace {

#if S2S_WITH_CUDA

class CudaSmoke : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0)
      GTEST_SKIP() << "no CUDA device usable (no GPU, or no NVIDIA driver): CUDA tests skipped";
  }
};

TEST_F(CudaSmoke, DeviceIsListedAndCoveredByTheBuild) {
  const std::vector<DeviceInfo> devices = list_cuda_devices();
  ASSERT_FALSE(devices.empty());
  for (const DeviceInfo& device : devices) {
    std::printf("CUDA device %d: %s, %zu bytes, %s\n", device.index, device.name.c_str(),
                device.memory_bytes, device.detail.c_str());
  }
  EXPECT_NO_THROW(check_cuda_device(0)) << "built for " << compiled_cuda_architectures();
}

TEST_F(CudaSmoke, FillMatchesTheCpuReference) {
  cuda::CudaMemory memory(0);
  // Sizes around the block size and beyond the grid cap (4096 blocks of 256: grid-stride loop).
  for (std::size_t n : {std::size_t{1}, std::size_t{255}, std::size_t{256}, std::size_t{257},
                        std::size_t{1000003}, std::size_t{4096} * 256 * 3 + 7}) {
    const float value = 0.5f + static_cast<float>(n % 7);
    Buffer<float> device_values(memory, n);
    device_values.zero();
    cuda::fill_cuda(device_values.data(), n, value);
    std::vector<float> expected(n, -1.0f);
    cpu::fill_cpu(expected.data(), n, value);
    const std::vector<float> got = device_values.download();
    ASSERT_EQ(got.size(), n);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < n; ++i) mismatches += got[i] != expected[i];
    EXPECT_EQ(mismatches, 0u) << "n = " << n;
  }
}

TEST_F(CudaSmoke, UploadCopyZeroAndDownloadRoundTrip) {
  cuda::CudaMemory memory(0);
  const std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f};
  Buffer<float> a(memory, values.size());
  Buffer<float> b(memory, values.size());
  a.upload(values);
  memory.copy(b.data(), a.data(), values.size() * sizeof(float));
  EXPECT_EQ(b.download(), values);
  a.zero();
  EXPECT_EQ(a.download(), std::vector<float>(values.size(), 0.0f));
  Buffer<float> moved = std::move(b);
  EXPECT_EQ(moved.download(), values);
  memory.synchronize();
}

TEST_F(CudaSmoke, AllocationLargerThanTheDeviceThrowsNamingTheSize) {
  cuda::CudaMemory memory(0);
  const std::size_t bytes = list_cuda_devices().at(0).memory_bytes + (std::size_t{1} << 30);
  try {
    Buffer<unsigned char> too_big(memory, bytes);
    FAIL() << "allocating " << bytes << " bytes did not throw";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(std::to_string(bytes)), std::string::npos)
        << error.what();
  }
  // The device is still usable after the failure.
  Buffer<float> small(memory, 16);
  cuda::fill_cuda(small.data(), 16, 2.0f);
  EXPECT_EQ(small.download(), std::vector<float>(16, 2.0f));
}

TEST_F(CudaSmoke, NonexistentDeviceThrows) {
  EXPECT_THROW(cuda::CudaMemory memory(cuda_device_count()), Error);
  EXPECT_THROW(check_cuda_device(cuda_device_count()), Error);
  EXPECT_THROW(check_cuda_device(-1), Error);
}

#else  // built without CUDA

TEST(CudaSmoke, NeedsACudaBuild) {
  EXPECT_FALSE(cuda_built());
  GTEST_SKIP() << "s2s was built without CUDA (S2S_ENABLE_CUDA=OFF): CUDA tests skipped";
}

#endif

}  // namespace
}  // namespace s2s
