// Gate activations from the math library, for host and device: the CUDA kernels' (expf and
// tanhf, accurate in CUDA's math library; no fast-math in this build) and the CPU double
// reference's (std::exp, std::tanh). The CPU float loops use host/cpu/activations.h instead.
#pragma once

#include <cmath>

#include "cells/host_device.h"

namespace s2s::cells {

struct AccurateActivations {
  S2S_HOST_DEVICE static float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }
  S2S_HOST_DEVICE static float tanh(float v) { return tanhf(v); }
  S2S_HOST_DEVICE static double sigmoid(double v) { return 1.0 / (1.0 + ::exp(-v)); }
  S2S_HOST_DEVICE static double tanh(double v) { return ::tanh(v); }
};

}  // namespace s2s::cells
