#include "ops/reshape.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status.h"

namespace ald {

absl::StatusOr<Shape> ReshapeShape(const Shape& input, const ReshapeAttrs& attrs) {
  std::vector<int64_t> dims = attrs.shape;
  const std::string wanted = absl::StrCat("[", absl::StrJoin(dims, ", "), "]");
  int inferred = -1;
  int64_t known = 1;
  for (int i = 0; i < static_cast<int>(dims.size()); ++i) {
    if (dims[i] == -1 && inferred >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("reshape: more than one -1 in ", wanted, " (input ", input.ToString(), ")"));
    }
    if (dims[i] == -1) {
      inferred = i;
    } else if (dims[i] < 0) {
      return absl::InvalidArgumentError(absl::StrCat("reshape: extent ", dims[i], " in ", wanted,
                                                     " (input ", input.ToString(), ")"));
    } else {
      known *= dims[i];
    }
  }
  const int64_t count = input.num_elements();
  const bool fits = inferred >= 0 ? known > 0 && count % known == 0 : known == count;
  if (!fits) {
    return absl::InvalidArgumentError(absl::StrCat("reshape: cannot view ", input.ToString(), " (",
                                                   count, " elements) as ", wanted));
  }
  if (inferred >= 0) dims[inferred] = count / known;
  return Shape(std::move(dims));
}

absl::StatusOr<Tensor> ViewAs(const std::string& op, const Tensor& tensor, const Shape& shape) {
  if (!tensor.defined()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": the tensor is undefined"));
  }
  absl::StatusOr<Tensor> view = tensor.Reshape(shape);
  if (!view.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", view.status().message()));
  }
  return view;
}

absl::StatusOr<Tensor> ReshapeForward(const Tensor& x, const ReshapeAttrs& attrs) {
  ASSIGN_OR_RETURN(const Shape output, ReshapeShape(x.shape(), attrs));
  return ViewAs("reshape forward", x, output);
}

absl::StatusOr<Tensor> ReshapeBackward(const Tensor& dy, const Shape& input) {
  return ViewAs("reshape backward", dy, input);
}

}  // namespace ald
