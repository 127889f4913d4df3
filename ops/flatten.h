// flatten: [N, d1, d2, ...] -> [N, d1 * d2 * ...], the bridge from convolutional features to a
// linear layer; a view like reshape (no copy), with the inverse view as its backward.
#pragma once

#include "absl/status/statusor.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace ald {

// Rejects inputs of rank < 2 (there is nothing to flatten after the batch dimension).
absl::StatusOr<Shape> FlattenShape(const Shape& input);

absl::StatusOr<Tensor> FlattenForward(const Tensor& x);
absl::StatusOr<Tensor> FlattenBackward(const Tensor& dy, const Shape& input);

}  // namespace ald
