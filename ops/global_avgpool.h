// global_avgpool: the mean of each channel over its whole H x W plane, [N, C, H, W] -> [N, C].
#pragma once

#include "absl/status/statusor.h"
#include "core/shape.h"

namespace ald {

// Rejects a rank other than 4 and empty inputs.
absl::StatusOr<Shape> GlobalAvgPoolShape(const Shape& input);

}  // namespace ald
