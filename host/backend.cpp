// Backend names, selection (cpu, cuda, auto) and construction.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cuda/cuda_devices.h"
#include "s2s/backend.h"
#include "s2s/error.h"

namespace s2s {

namespace {
// The CUDA backend's ops are written (host/cuda/, kernels/) but have not yet passed
// tests/test_cuda_parity.cpp on a GPU; until they have, `auto` keeps to the CPU and only an
// explicit `cuda` request runs them.
constexpr bool kCudaOpsImplemented = false;

int g_cuda_device = 0;  // set_cuda_device: a data-parallel rank's GPU
}  // namespace

void set_cuda_device(int device) {
  require(device >= 0, "set_cuda_device: device " + std::to_string(device) +
                           " (allowed: 0 or more)");
  g_cuda_device = device;
}
int cuda_device() { return g_cuda_device; }

std::string to_string(BackendKind kind) {
  switch (kind) {
    case BackendKind::cpu: return "cpu";
    case BackendKind::cuda: return "cuda";
    case BackendKind::automatic: return "auto";
  }
  return "?";
}

BackendKind parse_backend(const std::string& name) {
  if (name == "cpu") return BackendKind::cpu;
  if (name == "cuda") return BackendKind::cuda;
  if (name == "auto") return BackendKind::automatic;
  throw Error("unknown device '" + name + "' (allowed: cpu, cuda, auto)");
}

std::string to_string(Precision precision) {
  return precision == Precision::tf32 ? "tf32" : "fp32";
}

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::fp32;
  if (name == "tf32") return Precision::tf32;
  throw Error("unknown precision '" + name + "' (allowed: fp32, tf32)");
}

std::vector<DeviceInfo> list_devices() {
  DeviceInfo cpu;
  cpu.kind = BackendKind::cpu;
  cpu.name = "CPU";
  cpu.detail = std::to_string(std::thread::hardware_concurrency()) + " hardware threads";
  std::vector<DeviceInfo> devices{cpu};
  for (auto& gpu : list_cuda_devices()) devices.push_back(gpu);
  return devices;
}

BackendKind resolve_backend(BackendKind requested) {
  switch (requested) {
    case BackendKind::cpu: return BackendKind::cpu;
    case BackendKind::cuda:
      if (!cuda_built())
        throw Error("the CUDA backend was asked for, but this s2s was built without CUDA "
                    "(rebuild with -DS2S_ENABLE_CUDA=ON, or use the cpu backend)");
      if (cuda_device_count() == 0)
        throw Error("the CUDA backend was asked for, but no usable CUDA device was found "
                    "(use the cpu backend)");
      check_cuda_device(g_cuda_device);  // names its architecture if the build lacks code for it
      return BackendKind::cuda;
    case BackendKind::automatic:
      return kCudaOpsImplemented && cuda_built() && cuda_device_count() > 0 ? BackendKind::cuda
                                                                              : BackendKind::cpu;
  }
  throw Error("unknown backend kind");
}

template <typename T>
std::unique_ptr<Ops<T>> make_ops(BackendKind kind, Precision precision) {
  const BackendKind resolved = resolve_backend(kind);
  if (resolved == BackendKind::cpu) return make_cpu_ops<T>();  // exact: see Precision
  if constexpr (std::is_same_v<T, float>) {
    return make_cuda_ops(g_cuda_device, precision);
  } else {
    throw Error("the CUDA backend computes in float32 only; float64 runs on the cpu backend");
  }
}

template std::unique_ptr<Ops<float>> make_ops<float>(BackendKind, Precision);
template std::unique_ptr<Ops<double>> make_ops<double>(BackendKind, Precision);

}  // namespace s2s
