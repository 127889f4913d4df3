// ReLU on oneDNN's eltwise primitives. The backward pass reads the forward *output*
// (eltwise_relu_use_dst_for_bwd), so the forward may run in place and its input be reused.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace ald::cpu {

class ReluCpu {
 public:
  // Builds the primitives once for tensors of `shape` (any rank, f32, plain layout).
  static absl::StatusOr<std::unique_ptr<ReluCpu>> Create(const Shape& shape);

  // y = max(x, 0); y may be x itself.
  absl::Status Forward(const Tensor& x, Tensor& y);
  // dx = dy * (y > 0); dx may be dy itself.
  absl::Status Backward(const Tensor& y, const Tensor& dy, Tensor& dx);

 private:
  Shape shape_;
  dnnl::memory::desc desc_;
  dnnl::eltwise_forward forward_;
  dnnl::eltwise_backward backward_;
};

}  // namespace ald::cpu
