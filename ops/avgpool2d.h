// avgpool2d: the mean over each kernel window of an NCHW input.
#pragma once

#include "absl/status/statusor.h"
#include "core/shape.h"
#include "ops/pool2d_window.h"

namespace ald {

struct AvgPool2dAttrs {
  Pool2dWindow window;
  // PyTorch's default: padded positions count in the divisor (always kernel_h * kernel_w);
  // false divides by the number of real input elements in the window.
  bool count_include_pad = true;
};

// [N, C, H, W] -> [N, C, OH, OW]; see Pool2dOutputShape for what is rejected.
absl::StatusOr<Shape> AvgPool2dShape(const Shape& input, const AvgPool2dAttrs& attrs);

}  // namespace ald
