#include "ops/linear.h"

#include "absl/strings/str_cat.h"

namespace ald {
namespace {

absl::Status Invalid(const Shape& input, const Shape& weight, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("linear: ", what, " (input ", input.ToString(),
                                                 ", weight ", weight.ToString(), ")"));
}

}  // namespace

absl::StatusOr<LinearShapes> InferLinear(const Shape& input, const Shape& weight) {
  if (input.rank() != 2) {
    return Invalid(input, weight,
                   absl::StrCat("input has rank ", input.rank(), ", expected 2 (N, in)"));
  }
  if (weight.rank() != 2) {
    return Invalid(input, weight,
                   absl::StrCat("weight has rank ", weight.rank(), ", expected 2 (out, in)"));
  }
  if (input[0] < 1 || input[1] < 1 || weight[0] < 1 || weight[1] < 1) {
    return Invalid(input, weight, "every extent must be >= 1");
  }
  if (input[1] != weight[1]) {
    return Invalid(input, weight, absl::StrCat("input has ", input[1], " features, weight expects ",
                                               weight[1]));
  }
  return LinearShapes{input, weight, Shape{weight[0]}, Shape{input[0], weight[0]}};
}

ref::LinearDims RefDims(const LinearShapes& shapes) {
  return ref::LinearDims{shapes.input[0], shapes.input[1], shapes.weight[0]};
}

}  // namespace ald
