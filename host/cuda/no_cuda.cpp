// Builds without CUDA: the CUDA entry points exist, report no devices, and refuse with a message
// that says why. With CUDA, host/cuda/cuda_device.cpp provides them instead.
#include <memory>
#include <string>
#include <vector>

#include "cuda/cuda_devices.h"
#include "s2s/backend.h"
#include "s2s/error.h"

namespace s2s {

namespace {
const char* const kNotBuilt =
    "s2s was built without CUDA (S2S_ENABLE_CUDA=OFF, or no CUDA compiler was found when it was "
    "configured); use --device cpu, or rebuild with the CUDA toolkit installed";
}  // namespace

bool cuda_built() { return false; }

int cuda_device_count() { return 0; }

std::vector<DeviceInfo> list_cuda_devices() { return {}; }

void check_cuda_device(int device) {
  throw Error(std::string(kNotBuilt) + " (asked for CUDA device " + std::to_string(device) + ")");
}

std::unique_ptr<Ops<float>> make_cuda_ops(int device, Precision /*precision*/) {
  check_cuda_device(device);
  return nullptr;  // not reached
}

}  // namespace s2s
