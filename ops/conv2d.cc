#include "ops/conv2d.h"

#include "absl/strings/str_cat.h"

namespace ald {
namespace {

absl::Status Invalid(const Shape& input, const Shape& weight, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("conv2d: ", what, " (input ", input.ToString(),
                                                 ", weight ", weight.ToString(), ")"));
}

bool AnyBelowOne(const Shape& shape) {
  for (int64_t d : shape.dims()) {
    if (d < 1) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<Conv2dShapes> InferConv2d(const Shape& input, const Shape& weight,
                                         const Conv2dAttrs& attrs) {
  if (input.rank() != 4) {
    return Invalid(input, weight, absl::StrCat("input has rank ", input.rank(),
                                               ", expected 4 (N, C, H, W)"));
  }
  if (weight.rank() != 4) {
    return Invalid(input, weight, absl::StrCat("weight has rank ", weight.rank(),
                                               ", expected 4 (K, C, R, S)"));
  }
  if (AnyBelowOne(input) || AnyBelowOne(weight)) {
    return Invalid(input, weight, "every extent must be >= 1");
  }
  if (input[1] != weight[1]) {
    return Invalid(input, weight, absl::StrCat("input has ", input[1], " channels, weight expects ",
                                               weight[1]));
  }
  const std::string described = DescribeConv2d(attrs);
  for (int i = 0; i < 2; ++i) {
    if (attrs.stride[i] < 1) {
      return Invalid(input, weight, absl::StrCat("stride must be >= 1, got ", described));
    }
    if (attrs.padding[i] < 0) {
      return Invalid(input, weight, absl::StrCat("padding must be >= 0, got ", described));
    }
    const int64_t padded = input[2 + i] + 2 * attrs.padding[i];
    if (weight[2 + i] > padded) {
      return Invalid(input, weight,
                     absl::StrCat("kernel ", weight[2], "x", weight[3],
                                  " is larger than the padded input ", input[2] + 2 * attrs.padding[0],
                                  "x", input[3] + 2 * attrs.padding[1], " (", described, ")"));
    }
  }
  Conv2dShapes shapes;
  shapes.input = input;
  shapes.weight = weight;
  shapes.bias = Shape{weight[0]};
  shapes.output = Shape{input[0], weight[0],
                        (input[2] + 2 * attrs.padding[0] - weight[2]) / attrs.stride[0] + 1,
                        (input[3] + 2 * attrs.padding[1] - weight[3]) / attrs.stride[1] + 1};
  return shapes;
}

ref::Conv2dDims RefDims(const Conv2dShapes& shapes, const Conv2dAttrs& attrs) {
  ref::Conv2dDims dims;
  dims.batch = shapes.input[0];
  dims.in_channels = shapes.input[1];
  dims.height = shapes.input[2];
  dims.width = shapes.input[3];
  dims.out_channels = shapes.weight[0];
  dims.kernel_h = shapes.weight[2];
  dims.kernel_w = shapes.weight[3];
  dims.stride_h = attrs.stride[0];
  dims.stride_w = attrs.stride[1];
  dims.pad_h = attrs.padding[0];
  dims.pad_w = attrs.padding[1];
  return dims;
}

std::string DescribeConv2d(const Conv2dAttrs& attrs) {
  return absl::StrCat("stride ", attrs.stride[0], "x", attrs.stride[1], " pad ", attrs.padding[0],
                      "x", attrs.padding[1]);
}

}  // namespace ald
