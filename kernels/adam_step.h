// Adam in Keras' form over the whole flat parameter buffer in one launch. CPU twin:
// adam_step_cpu (host/cpu/optimizer_cpu.cpp). No CUDA types here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/stream.h"

namespace s2s::cuda {

// params, m, v: [n] updated; grads: [n]. m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// p -= lr * sqrt(1-b2^step)/(1-b1^step) * m / (sqrt(v) + eps), step counted from 1; the bias
// corrections are computed on the host in double, as the CPU reference does. Device memory.
void adam_step_cuda(float* params, const float* grads, float* m, float* v, std::size_t n,
                    float lr, float beta1, float beta2, float eps, std::int64_t step,
                    Stream stream);

}  // namespace s2s::cuda
