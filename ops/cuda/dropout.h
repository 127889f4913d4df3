// Inverted dropout on the GPU (kernels.cu): the keep mask is regenerated from the counter-based
// Philox stream of core/rng.h in forward and backward, bit-identical to the CPU's mask
// (ops/dropout.h), so no mask buffer lives between the passes and CPU and GPU runs agree.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "ops/cuda/handles.h"
#include "ops/cuda/kernels.h"
#include "ops/dropout.h"

namespace ald::cuda {

class DropoutCuda {
 public:
  // Attributes checked by the CPU rule (DropoutShape). `handles` must outlive the op.
  static absl::StatusOr<std::unique_ptr<DropoutCuda>> Create(const CudaHandles& handles,
                                                             const Shape& shape,
                                                             const DropoutAttrs& attrs);
  const Shape& shape() const { return shape_; }

  // Training: y = x · keep / (1 - p) with the mask of `key`; y may be x.
  absl::Status Forward(const float* x, const DropoutKey& key, float* y) const;
  // Inference: y = x (a copy unless y is x).
  absl::Status ForwardInference(const float* x, float* y) const;
  // dx = dy · keep / (1 - p), the mask regenerated from the forward's key; dx may be dy.
  absl::Status Backward(const float* dy, const DropoutKey& key, float* dx) const;
  // The mask itself (1 = kept), as DropoutKeepMask computes it on the CPU; for tests.
  absl::Status KeepMask(const DropoutKey& key, uint8_t* keep) const;

 private:
  DropoutCuda() = default;
  kernels::DropoutStream StreamOf(const DropoutKey& key) const;

  const CudaHandles* handles_ = nullptr;
  Shape shape_;
  DropoutAttrs attrs_;
  float scale_ = 1.0f;
};

}  // namespace ald::cuda
