#include "tools/trainer/lr_schedule.h"

#include <cmath>
#include <numbers>

namespace ald {

double LrSchedule::At(int64_t step) const {
  if (step < warmup_steps) return base_lr * static_cast<double>(step + 1) / warmup_steps;
  const double progress = static_cast<double>(step) / static_cast<double>(total_steps);
  switch (kind) {
    case Kind::kConstant: return base_lr;
    case Kind::kStep: return base_lr * (progress >= 0.75 ? 0.01 : progress >= 0.5 ? 0.1 : 1.0);
    case Kind::kCosine: {
      const double span = static_cast<double>(total_steps - warmup_steps);
      const double t = span <= 0 ? 1.0 : static_cast<double>(step - warmup_steps) / span;
      return base_lr * 0.5 * (1.0 + std::cos(std::numbers::pi * std::min(1.0, t)));
    }
  }
  return base_lr;
}

absl::StatusOr<LrSchedule::Kind> ParseLrSchedule(const std::string& name) {
  if (name == "constant") return LrSchedule::Kind::kConstant;
  if (name == "step") return LrSchedule::Kind::kStep;
  if (name == "cosine") return LrSchedule::Kind::kCosine;
  return absl::InvalidArgumentError("--lr_schedule: '" + name +
                                    "' is not one of constant, step, cosine");
}

}  // namespace ald
