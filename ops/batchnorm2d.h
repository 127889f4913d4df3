// BatchNorm2d with PyTorch's semantics: per-channel normalisation of NCHW activations with the
// batch statistics in training and the running statistics in inference; its attributes and the
// shape rule the graph builder checks layers with.
#pragma once

#include "absl/status/statusor.h"
#include "core/shape.h"
#include "ops/ref/batchnorm2d.h"

namespace ald {

struct BatchNorm2dAttrs {
  float eps = 1e-5f;
  // running = (1 - momentum) * running + momentum * batch statistic, as in PyTorch.
  float momentum = 0.1f;
  // relu(batchnorm(x)) in one pass: the graph compiler's bn+relu fusion.
  bool fuse_relu = false;
};

// Input and output [N, C, H, W]; gamma, beta, the saved batch mean and variance and the running
// statistics are all [C].
struct BatchNorm2dShapes {
  Shape input, channel;
};

// The shape rule. Rejects ranks other than 4, empty inputs, eps <= 0 and momentum outside
// [0, 1]; errors name the op and the shape.
absl::StatusOr<BatchNorm2dShapes> InferBatchNorm2d(const Shape& input,
                                                   const BatchNorm2dAttrs& attrs);

// Training normalises with batch statistics, which needs more than one value per channel (the
// unbiased variance of the running update divides by N*H*W - 1), as PyTorch requires too.
absl::Status CheckBatchNorm2dTraining(const Shape& input);

// The same sizes as plain numbers, for the reference loops.
ref::BatchNorm2dDims RefDims(const BatchNorm2dShapes& shapes);

}  // namespace ald
