#include "ops/flatten.h"

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "ops/reshape.h"

namespace ald {

absl::StatusOr<Shape> FlattenShape(const Shape& input) {
  if (input.rank() < 2) {
    return absl::InvalidArgumentError(absl::StrCat("flatten: input ", input.ToString(),
                                                   " has rank ", input.rank(),
                                                   ", expected [N, ...] of rank >= 2"));
  }
  int64_t features = 1;
  for (int i = 1; i < input.rank(); ++i) features *= input[i];
  return Shape{input[0], features};
}

absl::StatusOr<Tensor> FlattenForward(const Tensor& x) {
  ASSIGN_OR_RETURN(const Shape output, FlattenShape(x.shape()));
  return ViewAs("flatten forward", x, output);
}

absl::StatusOr<Tensor> FlattenBackward(const Tensor& dy, const Shape& input) {
  return ViewAs("flatten backward", dy, input);
}

}  // namespace ald
