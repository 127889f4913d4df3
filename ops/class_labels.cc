#include "ops/class_labels.h"

#include "absl/strings/str_cat.h"

namespace ald {

absl::Status CheckLogitsAndLabels(const std::string& op, const Shape& logits, DType logits_dtype,
                                  const Shape& labels, DType labels_dtype) {
  const std::string both =
      absl::StrCat(" (logits ", DTypeName(logits_dtype), logits.ToString(), ", labels ",
                   DTypeName(labels_dtype), labels.ToString(), ")");
  if (logits.rank() != 2 || logits[0] < 1 || logits[1] < 1 || logits_dtype != DType::kF32) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": logits must be f32 [N, K] with N, K >= 1", both));
  }
  if (labels != Shape{logits[0]} || labels_dtype != DType::kI32) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": labels must be i32 [", logits[0], "]", both));
  }
  return absl::OkStatus();
}

absl::Status CheckLabelValues(const std::string& op, const Tensor& labels, int64_t classes) {
  const std::span<const int32_t> values = labels.values<int32_t>();
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 0 || values[i] >= classes) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": labels[", i, "] = ", values[i], " is outside [0, ", classes, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ald
