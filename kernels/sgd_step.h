// SGD with momentum (PyTorch's form) over the whole flat parameter buffer in one launch. CPU
// twin: sgd_step_cpu (host/cpu/optimizer_cpu.cpp). No CUDA types here.
#pragma once

#include <cstddef>

#include "kernels/stream.h"

namespace s2s::cuda {

// params, velocity: [n] updated; grads: [n]. momentum == 0: p -= lr * g and velocity is neither
// read nor written (nullable then); else v = momentum * v + g; p -= lr * v. Device memory.
void sgd_step_cuda(float* params, const float* grads, float* velocity, std::size_t n, float lr,
                   float momentum, Stream stream);

}  // namespace s2s::cuda
