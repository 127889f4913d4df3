// add: elementwise sum of two tensors of the same shape, optionally followed by a fused ReLU
// (the residual add+relu of ResNet blocks).
#pragma once

#include "absl/status/statusor.h"
#include "core/shape.h"

namespace ald {

struct AddAttrs {
  // y = max(a + b, 0). The backward then needs y: da = db = dy * (y > 0).
  bool fuse_relu = false;
};

// Both inputs must have the same shape (no broadcasting); the output has it too.
absl::StatusOr<Shape> AddShape(const Shape& a, const Shape& b);

}  // namespace ald
