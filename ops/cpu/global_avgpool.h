// global_avgpool on oneDNN's average pooling with one H x W window per plane; the output is
// [N, C] (oneDNN writes it as the same contiguous [N, C, 1, 1]).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "ops/cpu/pooling.h"

namespace ald::cpu {

class GlobalAvgPoolCpu {
 public:
  // Builds the primitives once for f32 NCHW inputs of `input` shape.
  static absl::StatusOr<std::unique_ptr<GlobalAvgPoolCpu>> Create(const Shape& input);

  const Shape& output_shape() const { return output_; }
  absl::Status Forward(const Tensor& x, Tensor& y);
  absl::Status Backward(const Tensor& dy, Tensor& dx);

 private:
  Shape output_;
  PoolingPrimitives pooling_;
};

}  // namespace ald::cpu
