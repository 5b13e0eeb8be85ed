// DeviceScope: makes one CUDA device current for a scope and gives the caller's back after, so
// that work for device 1 does not move the caller's own work off device 0.
#pragma once

#include <cuda_runtime.h>

#include "cuda/cuda_check.h"

namespace s2s::cuda {

class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    S2S_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ == device) {
      previous_ = -1;  // nothing to restore
      return;
    }
    S2S_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceScope() {
    if (previous_ >= 0) cudaSetDevice(previous_);  // best effort: a destructor never throws
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = -1;
};

}  // namespace s2s::cuda
