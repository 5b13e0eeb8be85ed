// What the CUDA parity tests (tests/test_cuda_parity*.cpp, ctest label gpu) share: the
// tolerance rule and its check, fresh printed seeds, random inputs, and the fixture that skips
// without a CUDA build or device and holds the GPU backend. Test-only, header-only (each test
// binary has its own copy).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "s2s/backend.h"
#include "s2s/buffer.h"
#include "s2s/random.h"

namespace s2s {

// |gpu - ref| <= atol * scale + rtol * |ref|, where scale = max(1, largest |ref| of the array):
// the absolute part is in units of the array's magnitude, because a float32 sum of many terms
// loses digits relative to its terms, not to its (possibly cancelled) result.
struct Tolerance {
  double atol;
  double rtol;
};

inline std::uint64_t fresh_seed() {
  if (const char* fixed = std::getenv("S2S_TEST_SEED")) return std::strtoull(fixed, nullptr, 10);
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

inline std::string seed_text(std::uint64_t seed) {
  return "random seed " + std::to_string(seed) +
         " (repeat with S2S_TEST_SEED=" + std::to_string(seed) + ")";
}

inline std::vector<double> uniform(std::size_t n, Rng& rng, double low = -1.0, double high = 1.0) {
  std::vector<double> v(n);
  for (double& x : v) x = rng.uniform(low, high);
  return v;
}

inline std::vector<float> to_float(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}
inline std::vector<double> to_double(const std::vector<float>& v) {
  return std::vector<double>(v.begin(), v.end());
}

// Random lengths in [low, seq_len]; with two or more sequences one has seq_len and one low, so
// both the full and the shortest case are always present.
inline std::vector<std::int32_t> random_lengths(int batch, int seq_len, Rng& rng, int low = 1) {
  std::vector<std::int32_t> lengths(batch);
  for (auto& l : lengths) l = low + static_cast<std::int32_t>(rng.below(seq_len - low + 1));
  lengths[0] = seq_len;
  if (batch > 1) lengths[batch - 1] = low;
  return lengths;
}

inline void expect_close(const std::vector<double>& got, const std::vector<double>& ref,
                         Tolerance tol, const std::string& what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  double scale = 1.0;
  for (double r : ref)
    if (std::isfinite(r)) scale = std::max(scale, std::abs(r));
  std::size_t failures = 0;
  double worst = 0.0;
  std::ostringstream first;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double allowed = tol.atol * scale + tol.rtol * std::abs(ref[i]);
    const double error = std::abs(got[i] - ref[i]);
    const bool ok = std::isnan(ref[i])   ? std::isnan(got[i])
                    : std::isinf(ref[i]) ? got[i] == ref[i]
                                         : error <= allowed;
    if (std::isfinite(error)) worst = std::max(worst, error / std::max(allowed, 1e-300));
    if (ok) continue;
    if (failures < 5)
      first << "\n  [" << i << "] gpu " << got[i] << ", reference " << ref[i] << ", allowed "
            << allowed;
    ++failures;
  }
  EXPECT_EQ(failures, 0u) << what << ": " << failures << " of " << got.size()
                          << " values outside atol " << tol.atol << " x " << scale << " + rtol "
                          << tol.rtol << " x |ref|" << first.str();
  // S2S_PARITY_VERBOSE=1 prints how much of each tolerance was used, passing or not.
  if (std::getenv("S2S_PARITY_VERBOSE") != nullptr)
    std::printf("  %-24s worst error / allowed = %.3g over %zu values\n", what.c_str(), worst,
                got.size());
}

template <typename T>
inline bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

class CudaParity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_built())
      GTEST_SKIP() << "s2s was built without CUDA (S2S_ENABLE_CUDA=OFF): CUDA tests skipped";
    if (cuda_device_count() == 0)
      GTEST_SKIP() << "no CUDA device usable (no GPU, or no NVIDIA driver): CUDA tests skipped";
    gpu_ = make_cuda_ops(0);
    seed_ = fresh_seed();
  }

  Memory& device() { return gpu_->memory(); }
  template <typename T>
  Buffer<T> upload(const std::vector<T>& values) {
    Buffer<T> b(device(), values.size());
    b.upload(values);
    return b;
  }
  Buffer<float> upload_float(const std::vector<double>& values) { return upload(to_float(values)); }
  // Data of a buffer, or null for an empty one (a nullable argument left out).
  template <typename T>
  static T* data_or_null(Buffer<T>& b) {
    return b.empty() ? nullptr : b.data();
  }

  std::unique_ptr<Ops<float>> gpu_;
  std::uint64_t seed_ = 0;
};

}  // namespace s2s
