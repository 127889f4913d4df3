// maxpool2d on oneDNN's pooling_max. The training forward writes a workspace (where each
// maximum was) that the graph keeps alive for the backward pass, which routes dy through it.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "ops/cpu/layout.h"
#include "ops/cpu/pooling.h"
#include "ops/maxpool2d.h"

namespace ald::cpu {

class MaxPool2dCpu {
 public:
  // Builds the primitives once for NCHW inputs of `input` shape; x, y and their gradients are
  // all in `layout`, with elements of `dtype`.
  static absl::StatusOr<std::unique_ptr<MaxPool2dCpu>> Create(
      const Shape& input, const MaxPool2dAttrs& attrs,
      ActivationLayout layout = ActivationLayout::kPlain, DType dtype = DType::kF32);

  const Shape& output_shape() const { return output_; }
  // The workspace tensor Forward writes and Backward reads (opaque, see PoolingPrimitives).
  Shape workspace_shape() const { return pooling_.workspace_shape(); }
  const dnnl::memory::desc& workspace_desc() const { return pooling_.workspace_desc(); }

  absl::Status Forward(const Tensor& x, Tensor& y, Tensor& workspace);
  absl::Status ForwardInference(const Tensor& x, Tensor& y);
  absl::Status Backward(const Tensor& dy, const Tensor& workspace, Tensor& dx);

 private:
  Shape output_;
  PoolingPrimitives pooling_;
};

}  // namespace ald::cpu
