// ReLU on oneDNN's eltwise primitives. The backward pass reads the forward *output*
// (eltwise_relu_use_dst_for_bwd), so the forward may run in place and its input be reused.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/cpu/layout.h"

namespace ald::cpu {

class ReluCpu {
 public:
  // Builds the primitives once for tensors of `dtype` and `shape` (any rank when plain) whose
  // bytes follow `layout`.
  static absl::StatusOr<std::unique_ptr<ReluCpu>> Create(
      const Shape& shape, ActivationLayout layout = ActivationLayout::kPlain,
      DType dtype = DType::kF32);

  // y = max(x, 0); y may be x itself.
  absl::Status Forward(const Tensor& x, Tensor& y);
  // dx = dy * (y > 0); dx may be dy itself.
  absl::Status Backward(const Tensor& y, const Tensor& dy, Tensor& dx);
  // The same on memories the caller describes (conv2d's fused ReLU); no shape checks.
  absl::Status BackwardNative(const dnnl::memory& y, const dnnl::memory& dy,
                              const dnnl::memory& dx);

 private:
  Shape shape_;
  DType dtype_ = DType::kF32;
  dnnl::memory::desc desc_;
  dnnl::eltwise_forward forward_;
  dnnl::eltwise_backward backward_;
};

}  // namespace ald::cpu
