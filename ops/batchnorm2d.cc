#include "ops/batchnorm2d.h"

#include "absl/strings/str_cat.h"

namespace ald {

absl::StatusOr<BatchNorm2dShapes> InferBatchNorm2d(const Shape& input,
                                                   const BatchNorm2dAttrs& attrs) {
  auto invalid = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrCat("batchnorm2d: ", what, " (input ", input.ToString(), ")"));
  };
  if (input.rank() != 4) {
    return invalid(absl::StrCat("input has rank ", input.rank(), ", expected 4 (N, C, H, W)"));
  }
  for (int64_t d : input.dims()) {
    if (d < 1) return invalid("every extent must be >= 1");
  }
  if (!(attrs.eps > 0)) return invalid(absl::StrCat("eps must be > 0, got ", attrs.eps));
  if (!(attrs.momentum >= 0 && attrs.momentum <= 1)) {
    return invalid(absl::StrCat("momentum must be in [0, 1], got ", attrs.momentum));
  }
  return BatchNorm2dShapes{input, Shape{input[1]}};
}

absl::Status CheckBatchNorm2dTraining(const Shape& input) {
  if (input.num_elements() / input[1] > 1) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("batchnorm2d: training needs more than one value per channel (input ",
                   input.ToString(), ")"));
}

ref::BatchNorm2dDims RefDims(const BatchNorm2dShapes& shapes) {
  return ref::BatchNorm2dDims{shapes.input[0], shapes.input[1], shapes.input[2], shapes.input[3]};
}

}  // namespace ald
