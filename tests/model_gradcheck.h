// The whole model's gradient check: every parameter's analytic gradient (forward_backward)
// against central differences of loss(), in float64, tensor by tensor.
#pragma once

#include <cmath>
#include <vector>

#include "gradcheck.h"
#include "s2s/seq2seq.h"

namespace s2s::test {

// Expects forward_backward's gradients to match central differences of loss() on `batch`, and
// every tensor to take part in the loss (a gradient that is zero everywhere passes any
// comparison).
inline void expect_model_gradients_match(BasicSeq2Seq<double>& model, const Batch& batch) {
  const StepResult result = model.forward_backward(batch);
  EXPECT_TRUE(std::isfinite(result.loss));
  EXPECT_NEAR(result.loss, model.loss(batch), 1e-12);
  const std::vector<double> analytic = model.gradients();

  std::vector<double> params = model.parameters();
  const auto loss = [&] {
    model.set_parameters(params);
    return model.loss(batch);
  };
  const std::vector<double> numeric = numeric_gradient(loss, params.data(), params.size());
  for (const auto& p : model.parameter_info()) {
    const std::vector<double> a(analytic.begin() + p.offset,
                                analytic.begin() + p.offset + p.size());
    const std::vector<double> n(numeric.begin() + p.offset, numeric.begin() + p.offset + p.size());
    expect_gradients_near(a, n, p.name);
    double magnitude = 0;
    for (double v : n) magnitude += std::abs(v);
    EXPECT_GT(magnitude, 1e-8) << p.name << " does not affect the loss";
  }
}

}  // namespace s2s::test
