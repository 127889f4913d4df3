// add (elementwise a + b of equal shapes, optionally relu'd: the residual add+relu) on cuDNN's
// cudnnOpTensor, on fp32 device pointers.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "ops/add.h"
#include "ops/cuda/cudnn_descriptors.h"
#include "ops/cuda/handles.h"

namespace ald::cuda {

class AddCuda {
 public:
  // Shapes checked by the CPU rule (AddShape). `handles` must outlive the op.
  static absl::StatusOr<std::unique_ptr<AddCuda>> Create(const CudaHandles& handles, const Shape& a,
                                                         const Shape& b, const AddAttrs& attrs);
  const Shape& shape() const { return shape_; }
  const AddAttrs& attrs() const { return attrs_; }

  // y = a + b (then relu when fused). y must not alias a or b: cuDNN documents in-place
  // cudnnOpTensor only for some operand combinations, and the planner can always give y a slot.
  absl::Status Forward(const float* a, const float* b, float* y) const;
  // The gradient of both inputs (they are equal): dy, masked by y > 0 when fused. dx may be dy.
  absl::Status Backward(const float* y, const float* dy, float* dx) const;

 private:
  AddCuda() = default;
  const CudaHandles* handles_ = nullptr;
  Shape shape_;
  AddAttrs attrs_;
  TensorDescriptor desc_;
  CudnnDescriptor<cudnnOpTensorDescriptor_t, cudnnDestroyOpTensorDescriptor> add_desc_;
  ActivationDescriptor relu_desc_;
};

}  // namespace ald::cuda
