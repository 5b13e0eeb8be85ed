// What the rest of the library may ask about CUDA devices, with or without CUDA in the build.
// No CUDA header here: host/cuda/cuda_device.cpp implements it with CUDA, host/cuda/no_cuda.cpp
// without; cuda_built(), cuda_device_count() and make_cuda_ops() are in include/s2s/backend.h.
#pragma once

#include <string>
#include <vector>

#include "s2s/backend.h"

namespace s2s {

// Each usable CUDA device (kind cuda, its index, name, global memory, and "compute capability
// X.Y, N SMs"); empty when CUDA is not built or no device/driver is present. Never throws for
// a missing driver or device.
std::vector<DeviceInfo> list_cuda_devices();

// Throws Error unless `device` is a usable CUDA device whose architecture this build has code
// for (the message names the device's compute capability and the architectures compiled in).
void check_cuda_device(int device);

// The CUDA architectures compiled in, as CMAKE_CUDA_ARCHITECTURES gave them ("80;90"); empty
// without CUDA. Always linked (host/cuda/cuda_architectures.cpp).
std::string compiled_cuda_architectures();

// Whether code built for `architectures` (CMake's syntax: "80;90", "86-real;90-virtual",
// "90a", "all", ...) can run on a device of compute capability major.minor:
// SASS ("NN", "NN-real") runs on the same major version with minor >= N's; PTX ("NN",
// "NN-virtual") is compiled by the driver for any device >= NN; arch-specific code ("90a")
// runs only on that exact capability. "all", "all-major" and "native" count as covering
// (the runtime probe in check_cuda_device decides then).
bool cuda_architectures_cover(const std::string& architectures, int major, int minor);

}  // namespace s2s
