// The stream every kernel launcher takes, named without a CUDA header: cudaStream_t is
// `struct CUstream_st*`, so host code passes its cudaStream_t as is, and headers that declare
// launchers stay includable from code compiled without CUDA.
#pragma once

struct CUstream_st;

namespace s2s::cuda {
using Stream = CUstream_st*;
}  // namespace s2s::cuda
