// Names of the optimizers and OptimizerConfig::validate.
#include <cmath>
#include <string>

#include "s2s/error.h"
#include "s2s/optimizer.h"

namespace s2s {

std::string to_string(OptimizerKind kind) { return kind == OptimizerKind::adam ? "adam" : "sgd"; }

OptimizerKind parse_optimizer(const std::string& name) {
  if (name == "adam") return OptimizerKind::adam;
  if (name == "sgd") return OptimizerKind::sgd;
  throw Error("unknown optimizer '" + name + "' (allowed: adam, sgd)");
}

namespace {
void require_in(const char* field, double value, double low, double high, bool open_low,
                bool open_high) {
  const bool ok = std::isfinite(value) && (open_low ? value > low : value >= low) &&
                  (open_high ? value < high : value <= high);
  if (!ok)
    throw Error(std::string("optimizer: ") + field + " is " + std::to_string(value) +
                " (allowed: " + (open_low ? "(" : "[") + std::to_string(low) + ", " +
                (std::isinf(high) ? std::string("inf") : std::to_string(high)) +
                (open_high ? ")" : "]") + ")");
}
}  // namespace

void OptimizerConfig::validate() const {
  const double inf = INFINITY;
  if (kind != OptimizerKind::adam && kind != OptimizerKind::sgd)
    throw Error("optimizer: unknown kind (allowed: adam, sgd)");
  require_in("learning_rate", learning_rate, 0, inf, true, true);
  require_in("momentum", momentum, 0, 1, false, true);
  require_in("beta1", beta1, 0, 1, false, true);
  require_in("beta2", beta2, 0, 1, false, true);
  require_in("epsilon", epsilon, 0, inf, true, true);
  require_in("decay", decay, 0, inf, false, true);
  require_in("clip_norm", clip_norm, 0, inf, false, true);
}

}  // namespace s2s
