// shortcut_pad on the GPU (kernels.cu): ResNet's option-A shortcut, subsampling H and W by the
// stride and zero-padding channels evenly before and after, as ops/shortcut_pad.h.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "ops/cuda/handles.h"
#include "ops/cuda/kernels.h"
#include "ops/shortcut_pad.h"

namespace ald::cuda {

class ShortcutPadCuda {
 public:
  // Shapes checked by the CPU rule (ShortcutPadShape). `handles` must outlive the op.
  static absl::StatusOr<std::unique_ptr<ShortcutPadCuda>> Create(const CudaHandles& handles,
                                                                 const Shape& input,
                                                                 const ShortcutPadAttrs& attrs);
  const Shape& input_shape() const { return input_; }
  const Shape& output_shape() const { return output_; }

  // y and x must not overlap (shapes differ, so in place is impossible anyway).
  absl::Status Forward(const float* x, float* y) const;
  // dx gets dy at the subsampled positions and 0 elsewhere.
  absl::Status Backward(const float* dy, float* dx) const;

 private:
  ShortcutPadCuda() = default;
  const CudaHandles* handles_ = nullptr;
  Shape input_, output_;
  kernels::ShortcutPadGeometry geometry_{};
};

}  // namespace ald::cuda
