// Learning-rate schedules as pure functions of the step, so a resumed run continues exactly.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace ald {

struct LrSchedule {
  enum class Kind { kConstant, kStep, kCosine };
  Kind kind = Kind::kConstant;
  double base_lr = 0.1;
  int64_t total_steps = 1;
  int64_t warmup_steps = 0;  // linear ramp from base_lr / warmup_steps up to base_lr

  // kStep: x0.1 at 50% and 75% of training (the AL-DSGD authors' schedule); kCosine: half a
  // cosine from base_lr to 0.
  double At(int64_t step) const;
};

absl::StatusOr<LrSchedule::Kind> ParseLrSchedule(const std::string& name);

}  // namespace ald
