// accuracy: how many rows of logits [N, K] have their largest value at the row's label [N];
// an evaluation metric, forward only.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/dtype.h"
#include "core/shape.h"

namespace ald {

struct AccuracyResult {
  int64_t correct = 0;
  int64_t total = 0;
  double fraction() const { return total == 0 ? 0.0 : static_cast<double>(correct) / total; }
};

// The count is a scalar (Shape{}); see CheckLogitsAndLabels for what is rejected.
absl::StatusOr<Shape> AccuracyShape(const Shape& logits, DType logits_dtype, const Shape& labels,
                                    DType labels_dtype);

}  // namespace ald
