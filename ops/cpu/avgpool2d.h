// avgpool2d on oneDNN's pooling_avg_include_padding / pooling_avg_exclude_padding.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "ops/avgpool2d.h"
#include "ops/cpu/layout.h"
#include "ops/cpu/pooling.h"

namespace ald::cpu {

class AvgPool2dCpu {
 public:
  // Builds the primitives once for NCHW inputs of `input` shape; x, y and their gradients are
  // all in `layout`, with elements of `dtype`.
  static absl::StatusOr<std::unique_ptr<AvgPool2dCpu>> Create(
      const Shape& input, const AvgPool2dAttrs& attrs,
      ActivationLayout layout = ActivationLayout::kPlain, DType dtype = DType::kF32);

  const Shape& output_shape() const { return output_; }
  absl::Status Forward(const Tensor& x, Tensor& y);
  // Needs no forward tensor: the gradient depends only on the window geometry.
  absl::Status Backward(const Tensor& dy, Tensor& dx);

 private:
  Shape output_;
  PoolingPrimitives pooling_;
};

}  // namespace ald::cpu
