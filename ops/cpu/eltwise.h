// An element-wise function (ops/eltwise/registry.h) on oneDNN's eltwise primitives: one kernel
// class for every registered function, built from the function's algorithm.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/cpu/layout.h"
#include "ops/eltwise/registry.h"

namespace ald::cpu {

class EltwiseCpu {
 public:
  // Builds the primitives once for tensors of `dtype` and `shape` (any rank when plain) whose
  // bytes follow `layout`. `function` must outlive the kernel (registered functions do).
  static absl::StatusOr<std::unique_ptr<EltwiseCpu>> Create(
      const eltwise::Function& function, const Shape& shape,
      ActivationLayout layout = ActivationLayout::kPlain, DType dtype = DType::kF32);

  // y = f(x); y may be x.
  absl::Status Forward(const Tensor& x, Tensor& y);
  // dx = f'(x) * dy from x or y as the function says (saved); dx may be dy.
  absl::Status Backward(const Tensor& saved, const Tensor& dy, Tensor& dx);

  const eltwise::Function& function() const { return *function_; }

 private:
  const eltwise::Function* function_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::kF32;
  dnnl::memory::desc desc_;
  dnnl::eltwise_forward forward_;
  dnnl::eltwise_backward backward_;
};

}  // namespace ald::cpu
