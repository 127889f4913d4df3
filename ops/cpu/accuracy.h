// accuracy on the CPU: the argmax of each row against its label. oneDNN has no argmax, so this
// runs the plain-loop reference (ops/ref/accuracy.h) on float; ties go to the lowest index.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "ops/accuracy.h"

namespace ald::cpu {

class AccuracyCpu {
 public:
  // Validates the shapes once for f32 logits of shape [N, K].
  static absl::StatusOr<std::unique_ptr<AccuracyCpu>> Create(const Shape& logits);

  // Labels outside [0, K) are an error (they would silently count as wrong).
  absl::StatusOr<AccuracyResult> Forward(const Tensor& logits, const Tensor& labels) const;

 private:
  Shape logits_shape_;
};

}  // namespace ald::cpu
