// add on oneDNN's binary primitive, with the ReLU of add+relu fused as an eltwise post-op.
// Without the ReLU the backward is the identity for both inputs, so there is no backward
// kernel: the graph hands dy itself (an alias, no copy) to both inputs' gradients.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/add.h"
#include "ops/cpu/layout.h"
#include "ops/cpu/relu.h"

namespace ald::cpu {

class AddCpu {
 public:
  // Builds the primitives once for tensors of `dtype` and `shape` (any rank when plain); a, b, y
  // and the fused ReLU's y, dy, dx all follow `layout`.
  static absl::StatusOr<std::unique_ptr<AddCpu>> Create(
      const Shape& shape, const AddAttrs& attrs,
      ActivationLayout layout = ActivationLayout::kPlain, DType dtype = DType::kF32);

  // y = a + b (then max(., 0) if fused); y may be a itself (the residual path's buffer).
  absl::Status Forward(const Tensor& a, const Tensor& b, Tensor& y);
  // Fused ReLU only: dx = dy * (y > 0), the gradient of a and of b alike; dx may be dy.
  // Without fusion it is an error (FailedPrecondition): the graph aliases dy instead.
  absl::Status Backward(const Tensor& y, const Tensor& dy, Tensor& dx);

 private:
  Shape shape_;
  AddAttrs attrs_;
  DType dtype_ = DType::kF32;
  dnnl::memory::desc desc_;
  dnnl::binary forward_;
  // ReLU's backward from its output is exactly the fused op's backward.
  std::unique_ptr<ReluCpu> relu_;
};

}  // namespace ald::cpu
