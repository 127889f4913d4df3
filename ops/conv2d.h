// Conv2d: 2-D convolution of NCHW activations with OIHW weights (groups 1, no dilation), as in
// PyTorch's nn.Conv2d: its attributes and the shape rule the graph builder checks layers with.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/shape.h"
#include "ops/ref/conv2d.h"

namespace ald {

struct Conv2dAttrs {
  std::array<int64_t, 2> stride{1, 1};   // {height, width}
  std::array<int64_t, 2> padding{0, 0};  // added on both sides
  bool bias = true;
  // relu(conv(x) + b) in one pass: the graph compiler's conv+relu fusion.
  bool fuse_relu = false;
};

// Every tensor of one convolution: input [N, C, H, W], weight [K, C, R, S], bias [K] (used only
// when Conv2dAttrs::bias), output [N, K, H', W'] with H' = (H + 2ph - R) / sh + 1 (floor).
struct Conv2dShapes {
  Shape input, weight, bias, output;
};

// The shape rule. Rejects ranks other than 4, empty tensors, a channel mismatch, stride < 1,
// padding < 0 and a kernel larger than the padded input; each error names the op and both shapes,
// e.g. "conv2d: input has 32 channels, weight expects 16 (input [8, 32, 16, 16], weight
// [16, 16, 3, 3])".
absl::StatusOr<Conv2dShapes> InferConv2d(const Shape& input, const Shape& weight,
                                         const Conv2dAttrs& attrs);

// The same geometry as plain numbers, for the reference loops.
ref::Conv2dDims RefDims(const Conv2dShapes& shapes, const Conv2dAttrs& attrs);

// "stride 2x2 pad 1x1": the attributes in error messages.
std::string DescribeConv2d(const Conv2dAttrs& attrs);

}  // namespace ald
