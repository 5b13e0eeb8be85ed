// CUDA builds only: which devices exist, what they are, and whether this build can run on them.
// Without CUDA, host/cuda/no_cuda.cpp provides the same functions.
#include <cuda_runtime.h>

#include <memory>
#include <string>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/cuda_device_scope.h"
#include "cuda/cuda_devices.h"
#include "kernels/fill.h"
#include "s2s/backend.h"
#include "s2s/error.h"

namespace s2s {

bool cuda_built() { return true; }

int cuda_device_count() {
  int count = 0;
  // No driver, no device, or a driver too old for this runtime all mean: no usable device.
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

std::vector<DeviceInfo> list_cuda_devices() {
  std::vector<DeviceInfo> devices;
  const int count = cuda_device_count();
  for (int index = 0; index < count; ++index) {
    cudaDeviceProp properties{};
    S2S_CUDA_CHECK(cudaGetDeviceProperties(&properties, index));
    DeviceInfo info;
    info.kind = BackendKind::cuda;
    info.index = index;
    info.name = properties.name;
    info.memory_bytes = properties.totalGlobalMem;
    info.detail = "compute capability " + std::to_string(properties.major) + "." +
                  std::to_string(properties.minor) + ", " +
                  std::to_string(properties.multiProcessorCount) + " SMs";
    devices.push_back(std::move(info));
  }
  return devices;
}

void check_cuda_device(int device) {
  const int count = cuda_device_count();
  if (count == 0)
    throw Error("no usable CUDA device: the driver reports none (is a GPU present and the NVIDIA "
                "driver loaded?); use --device cpu");
  if (device < 0 || device >= count)
    throw Error("CUDA device " + std::to_string(device) + " does not exist: this machine has " +
                std::to_string(count) + " (0 to " + std::to_string(count - 1) + ")");
  cudaDeviceProp properties{};
  S2S_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
  const std::string architectures = compiled_cuda_architectures();
  const std::string capability =
      std::to_string(properties.major) + "." + std::to_string(properties.minor);
  const auto not_covered = [&](const std::string& why) {
    return Error("CUDA device " + std::to_string(device) + " (" + properties.name +
                 ") has compute capability " + capability + ", but this build of s2s has code "
                 "only for CUDA architectures " + architectures + why + "; rebuild with "
                 "-DCMAKE_CUDA_ARCHITECTURES=\"" + architectures + ";" +
                 std::to_string(properties.major) + std::to_string(properties.minor) + "\"");
  };
  if (!cuda_architectures_cover(architectures, properties.major, properties.minor))
    throw not_covered("");
  // The list can be right and the code still unusable (e.g. PTX newer than the driver): ask the
  // runtime for the kernel's image on this device.
  cuda::DeviceScope scope(device);
  if (!cuda::kernel_image_available_cuda())
    throw not_covered(" (the runtime finds no loadable kernel image for it)");
}

}  // namespace s2s
