// softmax_cross_entropy: the classification loss, mean over the batch of
// -log softmax(logits)[label], from logits [N, K] (f32) and labels [N] (i32) to a scalar.
#pragma once

#include "absl/status/statusor.h"
#include "core/dtype.h"
#include "core/shape.h"

namespace ald {

// The loss is a scalar (Shape{}); see CheckLogitsAndLabels for what is rejected. Label values
// are checked by the kernel, before it computes anything.
absl::StatusOr<Shape> SoftmaxCrossEntropyShape(const Shape& logits, DType logits_dtype,
                                               const Shape& labels, DType labels_dtype);

}  // namespace ald
