// Inverted dropout on the CPU, hand-written: oneDNN 2.6 has no dropout or random-number
// primitive. The mask is regenerated from its key in the backward (see ops/dropout.h).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "ops/dropout.h"

namespace ald::cpu {

class DropoutCpu {
 public:
  // Validates the attributes once for f32 tensors of `shape`.
  static absl::StatusOr<std::unique_ptr<DropoutCpu>> Create(const Shape& shape,
                                                            const DropoutAttrs& attrs);

  // Training: y = x * keep / (1 - p) with the mask of `key`; y may be x.
  absl::Status Forward(const Tensor& x, const DropoutKey& key, Tensor& y);
  // Inference: y = x (a copy unless y is x; the graph may alias instead).
  absl::Status ForwardInference(const Tensor& x, Tensor& y);
  // dx = dy * keep / (1 - p), the mask regenerated from the forward's key; dx may be dy.
  absl::Status Backward(const Tensor& dy, const DropoutKey& key, Tensor& dx);

 private:
  // out = in * keep / (1 - p): forward and backward are the same map.
  void ApplyMask(const Tensor& in, const DropoutKey& key, Tensor& out) const;

  Shape shape_;
  DropoutAttrs attrs_;
};

}  // namespace ald::cpu
