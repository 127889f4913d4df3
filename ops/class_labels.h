// Checks shared by the ops that score class logits [N, K] (f32) against labels [N] (i32):
// softmax_cross_entropy and accuracy.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "core/dtype.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace ald {

// logits f32 [N, K] with N, K >= 1, labels i32 [N]; errors start with `op` and name both.
absl::Status CheckLogitsAndLabels(const std::string& op, const Shape& logits, DType logits_dtype,
                                  const Shape& labels, DType labels_dtype);

// Every label in [0, classes); the error names the first bad batch index and its value.
absl::Status CheckLabelValues(const std::string& op, const Tensor& labels, int64_t classes);

}  // namespace ald
