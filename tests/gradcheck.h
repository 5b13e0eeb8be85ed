// Central finite differences in float64 and the tolerances every gradient check uses.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "s2s/random.h"

namespace s2s::test {

// Step of the central difference (f(x+h) - f(x-h)) / 2h: truncation error ~h^2, rounding
// ~1e-16/h, both far under the tolerances below for the smooth functions checked here.
constexpr double kFiniteDifferenceStep = 1e-6;
// |analytic - numeric| <= kGradAtol + kGradRtol * |numeric|
constexpr double kGradAtol = 1e-7;
constexpr double kGradRtol = 1e-5;

// Fills v with U(low, high) values from rng.
inline void fill_uniform(std::vector<double>& v, Rng& rng, double low = -1.0, double high = 1.0) {
  for (auto& x : v) x = rng.uniform(low, high);
}
inline std::vector<double> random_vector(std::size_t n, Rng& rng, double low = -1.0,
                                         double high = 1.0) {
  std::vector<double> v(n);
  fill_uniform(v, rng, low, high);
  return v;
}

// Numeric gradient of loss() with respect to each of x[0..n): x is perturbed in place and
// restored.
inline std::vector<double> numeric_gradient(const std::function<double()>& loss, double* x,
                                            std::size_t n,
                                            double step = kFiniteDifferenceStep) {
  std::vector<double> g(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double saved = x[i];
    x[i] = saved + step;
    const double plus = loss();
    x[i] = saved - step;
    const double minus = loss();
    x[i] = saved;
    g[i] = (plus - minus) / (2 * step);
  }
  return g;
}

// Expects analytic == numeric element-wise within the named tolerances; `what` names the
// gradient in failure messages. Stops after a few failures to keep the log readable.
inline void expect_gradients_near(const std::vector<double>& analytic,
                                  const std::vector<double>& numeric, const std::string& what,
                                  double atol = kGradAtol, double rtol = kGradRtol) {
  ASSERT_EQ(analytic.size(), numeric.size()) << what;
  int failures = 0;
  for (std::size_t i = 0; i < analytic.size() && failures < 5; ++i) {
    const double tol = atol + rtol * std::abs(numeric[i]);
    if (!(std::abs(analytic[i] - numeric[i]) <= tol)) {
      ++failures;
      ADD_FAILURE() << what << "[" << i << "]: analytic " << analytic[i] << ", numeric "
                    << numeric[i] << ", tolerance " << tol;
    }
  }
}

// A loss that weighs every output element differently: sum_i w[i] * y[i]. Its gradient with
// respect to y is w, so a check through it exercises every output's gradient path.
inline double weighted_sum(const double* y, const std::vector<double>& w) {
  double s = 0;
  for (std::size_t i = 0; i < w.size(); ++i) s += w[i] * y[i];
  return s;
}

}  // namespace s2s::test
