#include "ops/softmax_cross_entropy.h"

#include "core/status.h"
#include "ops/class_labels.h"

namespace ald {

absl::StatusOr<Shape> SoftmaxCrossEntropyShape(const Shape& logits, DType logits_dtype,
                                               const Shape& labels, DType labels_dtype) {
  RETURN_IF_ERROR(
      CheckLogitsAndLabels("softmax_cross_entropy", logits, logits_dtype, labels, labels_dtype));
  return Shape{};
}

}  // namespace ald
