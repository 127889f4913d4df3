// global_avgpool on oneDNN's average pooling with one H x W window per plane; the output is
// plain [N, C] (oneDNN writes it as the same contiguous [N, C, 1, 1]). With an nChw16c input
// oneDNN writes an nChw16c [N, C, 1, 1], whose offset ((n*C/16 + c/16)*1 + 0)*16 + c%16 is
// n*C + c: the same bytes as plain [N, C], so the output needs no layout of its own (nChw8c
// likewise, with 8 for 16).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "ops/cpu/layout.h"
#include "ops/cpu/pooling.h"

namespace ald::cpu {

class GlobalAvgPoolCpu {
 public:
  // Builds the primitives once for NCHW inputs of `input` shape whose bytes (and those of dx)
  // follow `layout`; y and dy are plain [N, C] either way. All have elements of `dtype`.
  static absl::StatusOr<std::unique_ptr<GlobalAvgPoolCpu>> Create(
      const Shape& input, ActivationLayout layout = ActivationLayout::kPlain,
      DType dtype = DType::kF32);

  const Shape& output_shape() const { return output_; }
  absl::Status Forward(const Tensor& x, Tensor& y);
  absl::Status Backward(const Tensor& dy, Tensor& dx);

 private:
  Shape output_;
  PoolingPrimitives pooling_;
};

}  // namespace ald::cpu
