// Denormal floats flushed to zero (FTZ) and read as zero (DAZ) while a model computes.
//
// Long sequences drive gate gradients towards zero; once they are denormal, every multiply-add
// on them takes a microcode assist about a hundred times slower than a normal one (PyTorch's
// backward over pq's 2,001 steps ran 6x faster with flushing, issue 11). Values that small
// carry nothing a float32 model can use. MXCSR is per thread: the guard sets it in the calling
// thread for the duration of one model call and restores the caller's mode afterwards, so a
// program that embeds s2s keeps its own floating-point environment. BLAS threads other than
// the caller keep theirs (docs/CONVENTIONS.md, "Denormals"): the tool's long-sequence path runs
// BLAS on the calling thread, where the guard applies.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define S2S_HAVE_MXCSR 1
#else
#define S2S_HAVE_MXCSR 0
#endif

namespace s2s {

class FlushDenormals {
 public:
#if S2S_HAVE_MXCSR
  static constexpr unsigned kFlushToZero = 0x8000;     // MXCSR.FTZ
  static constexpr unsigned kDenormalsAreZero = 0x0040;  // MXCSR.DAZ
  FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero); }
  ~FlushDenormals() { _mm_setcsr(saved_); }

 private:
  unsigned saved_;
#else
  FlushDenormals() = default;
#endif
 public:
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;
};

}  // namespace s2s
