// Linear: the fully connected layer y = x·Wᵀ + b with PyTorch's weight convention W [out, in]:
// its attributes and the shape rule the graph builder checks layers with.
#pragma once

#include "absl/status/statusor.h"
#include "core/shape.h"
#include "ops/ref/linear.h"

namespace ald {

struct LinearAttrs {
  bool bias = true;
};

// Input [N, in], weight [out, in], bias [out] (used only when LinearAttrs::bias), output [N, out].
struct LinearShapes {
  Shape input, weight, bias, output;
};

// The shape rule. Rejects ranks other than 2, empty tensors and an in-features mismatch; each
// error names the op and both shapes, e.g. "linear: input has 64 features, weight expects 32
// (input [8, 64], weight [10, 32])".
absl::StatusOr<LinearShapes> InferLinear(const Shape& input, const Shape& weight);

// The same sizes as plain numbers, for the reference loops.
ref::LinearDims RefDims(const LinearShapes& shapes);

}  // namespace ald
