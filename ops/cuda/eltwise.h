// An element-wise function (ops/cuda/eltwise/registry.h) on fp32 device pointers of any shape:
// one kernel class for every registered function, on cuDNN's activation or the function's own
// launches.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/shape.h"
#include "ops/cuda/cudnn_descriptors.h"
#include "ops/cuda/eltwise/registry.h"
#include "ops/cuda/handles.h"

namespace ald::cuda {

class EltwiseCuda {
 public:
  // Rejects empty shapes. `handles` and `function` must outlive the op (registered functions
  // do).
  static absl::StatusOr<std::unique_ptr<EltwiseCuda>> Create(const CudaHandles& handles,
                                                             const eltwise::CudaFunction& function,
                                                             const Shape& shape);
  const Shape& shape() const { return shape_; }

  // y = f(x); y may be x.
  absl::Status Forward(const float* x, float* y) const;
  // dx from x or y as the function's registration says (ops/eltwise), and dy; dx may be dy.
  absl::Status Backward(const float* saved, const float* dy, float* dx) const;

 private:
  EltwiseCuda() = default;
  const CudaHandles* handles_ = nullptr;
  const eltwise::CudaFunction* function_ = nullptr;
  Shape shape_;
  TensorDescriptor desc_;               // cuDNN only
  ActivationDescriptor activation_;     // cuDNN only
};

}  // namespace ald::cuda
