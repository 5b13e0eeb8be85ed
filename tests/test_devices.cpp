// Device listing and CUDA availability, in every build and on every machine (no GPU needed):
// the CPU comes first, asking about CUDA never throws, and the architecture-coverage rules hold.
#include <gtest/gtest.h>

#include <string>

#include "cuda/cuda_devices.h"
#include "s2s/backend.h"
#include "s2s/error.h"

namespace s2s {
namespace {

// Precision: parsed by name; tf32 is accepted on the CPU, which computes exact float32 anyway.
TEST(Precision, ParsesItsNamesAndRefusesOthers) {
  EXPECT_EQ(parse_precision("fp32"), Precision::fp32);
  EXPECT_EQ(parse_precision("tf32"), Precision::tf32);
  EXPECT_EQ(to_string(Precision::tf32), "tf32");
  try {
    parse_precision("fp16");
    ADD_FAILURE() << "fp16 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fp32, tf32"), std::string::npos) << e.what();
  }
  EXPECT_EQ(make_ops<float>(BackendKind::cpu, Precision::tf32)->kind(), BackendKind::cpu);
}

TEST(Devices, ListStartsWithTheCpu) {
  const std::vector<DeviceInfo> devices = list_devices();
  ASSERT_FALSE(devices.empty());
  EXPECT_EQ(devices.front().kind, BackendKind::cpu);
  EXPECT_FALSE(devices.front().name.empty());
}

TEST(Devices, CudaDeviceCountNeverThrows) {
  int count = -1;
  EXPECT_NO_THROW(count = cuda_device_count());
  EXPECT_GE(count, 0);
  if (!cuda_built()) {
    EXPECT_EQ(count, 0);
  }
}

TEST(Devices, ListHasTheCpuAndEachCudaDevice) {
  const int count = cuda_device_count();
  const std::vector<DeviceInfo> cuda_devices = list_cuda_devices();
  ASSERT_EQ(static_cast<int>(cuda_devices.size()), count);
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(cuda_devices[i].kind, BackendKind::cuda);
    EXPECT_EQ(cuda_devices[i].index, i);
    EXPECT_GT(cuda_devices[i].memory_bytes, 0u);
    EXPECT_NE(cuda_devices[i].detail.find("compute capability"), std::string::npos);
  }
  EXPECT_EQ(list_devices().size(), cuda_devices.size() + 1);
}

TEST(Devices, CudaOpsWithoutADeviceThrowError) {
  if (cuda_built() && cuda_device_count() > 0)
    GTEST_SKIP() << "a CUDA device is present: tests/test_cuda_smoke.cpp covers it";
  EXPECT_THROW(make_cuda_ops(0), Error);
  EXPECT_THROW(check_cuda_device(0), Error);
}

TEST(Devices, CompiledArchitecturesMatchTheBuild) {
  EXPECT_EQ(compiled_cuda_architectures().empty(), !cuda_built());
}

TEST(CudaArchitectures, SassRunsOnTheSameMajorVersionOnly) {
  EXPECT_TRUE(cuda_architectures_cover("80-real", 8, 0));
  EXPECT_TRUE(cuda_architectures_cover("80-real", 8, 6));
  EXPECT_FALSE(cuda_architectures_cover("86-real", 8, 0));
  EXPECT_FALSE(cuda_architectures_cover("80-real", 9, 0));
  EXPECT_FALSE(cuda_architectures_cover("90-real", 8, 9));
}

TEST(CudaArchitectures, PtxRunsOnLaterDevices) {
  EXPECT_TRUE(cuda_architectures_cover("80-virtual", 9, 0));
  EXPECT_TRUE(cuda_architectures_cover("80;90", 12, 0));
  EXPECT_TRUE(cuda_architectures_cover("80;90", 8, 9));
  EXPECT_FALSE(cuda_architectures_cover("80;90", 7, 5));
  EXPECT_FALSE(cuda_architectures_cover("90-virtual", 8, 9));
}

TEST(CudaArchitectures, ArchSpecificAndFamilyCode) {
  EXPECT_TRUE(cuda_architectures_cover("90a", 9, 0));
  EXPECT_FALSE(cuda_architectures_cover("90a-real", 10, 0));
  EXPECT_TRUE(cuda_architectures_cover("100f", 10, 3));
  EXPECT_FALSE(cuda_architectures_cover("100f", 12, 0));
}

TEST(CudaArchitectures, SpecialValuesAndEmptyLists) {
  EXPECT_TRUE(cuda_architectures_cover("all", 7, 5));
  EXPECT_TRUE(cuda_architectures_cover("all-major", 12, 1));
  EXPECT_TRUE(cuda_architectures_cover("native", 8, 0));
  EXPECT_FALSE(cuda_architectures_cover("", 8, 0));
  EXPECT_FALSE(cuda_architectures_cover("garbage;;", 8, 0));
}

}  // namespace
}  // namespace s2s
