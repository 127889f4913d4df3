// ReLU on cuDNN (cudnnActivation): y = max(x, 0) and dx = dy where y > 0, on fp32 device
// pointers of any shape.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/shape.h"
#include "ops/cuda/cudnn_descriptors.h"
#include "ops/cuda/handles.h"

namespace ald::cuda {

class ReluCuda {
 public:
  // Rejects empty shapes. `handles` must outlive the op.
  static absl::StatusOr<std::unique_ptr<ReluCuda>> Create(const CudaHandles& handles,
                                                          const Shape& shape);
  const Shape& shape() const { return shape_; }

  // y may be x.
  absl::Status Forward(const float* x, float* y) const;
  // From the forward output y (so x may have been overwritten); dx may be dy.
  absl::Status Backward(const float* y, const float* dy, float* dx) const;

 private:
  ReluCuda() = default;
  const CudaHandles* handles_ = nullptr;
  Shape shape_;
  TensorDescriptor desc_;
  ActivationDescriptor relu_desc_;
};

}  // namespace ald::cuda
