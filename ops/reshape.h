// reshape: the same elements under another shape. Tensors are row-major and contiguous, so the
// "kernel" is a view of the input's storage (no copy), and the backward is the inverse view.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace ald {

struct ReshapeAttrs {
  // The output extents; at most one may be -1, inferred from the element count (as in PyTorch).
  std::vector<int64_t> shape;
};

// Rejects more than one -1, other negative extents, and an element count that differs from
// the input's (or that no -1 can make up).
absl::StatusOr<Shape> ReshapeShape(const Shape& input, const ReshapeAttrs& attrs);

// `tensor` viewed as `shape` (same element count), with errors prefixed by `op`; shared by
// the view ops (reshape, flatten) for both directions.
absl::StatusOr<Tensor> ViewAs(const std::string& op, const Tensor& tensor, const Shape& shape);

// y = x viewed with the output shape; dx = dy viewed with the input shape.
absl::StatusOr<Tensor> ReshapeForward(const Tensor& x, const ReshapeAttrs& attrs);
absl::StatusOr<Tensor> ReshapeBackward(const Tensor& dy, const Shape& input);

}  // namespace ald
