// fill's CPU reference (kernels/fill.h); the CUDA twin is kernels/fill.cu.
#include "kernels/fill.h"

#include <algorithm>

namespace s2s::cpu {

void fill_cpu(float* out, std::size_t n, float value) { std::fill(out, out + n, value); }

}  // namespace s2s::cpu
