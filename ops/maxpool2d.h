// maxpool2d: the maximum over each kernel window of an NCHW input; padding never wins.
#pragma once

#include "absl/status/statusor.h"
#include "core/shape.h"
#include "ops/pool2d_window.h"

namespace ald {

using MaxPool2dAttrs = Pool2dWindow;

// [N, C, H, W] -> [N, C, OH, OW]; see Pool2dOutputShape for what is rejected.
absl::StatusOr<Shape> MaxPool2dShape(const Shape& input, const MaxPool2dAttrs& attrs);

}  // namespace ald
