#include "ops/accuracy.h"

#include "core/status.h"
#include "ops/class_labels.h"

namespace ald {

absl::StatusOr<Shape> AccuracyShape(const Shape& logits, DType logits_dtype, const Shape& labels,
                                    DType labels_dtype) {
  RETURN_IF_ERROR(CheckLogitsAndLabels("accuracy", logits, logits_dtype, labels, labels_dtype));
  return Shape{};
}

}  // namespace ald
