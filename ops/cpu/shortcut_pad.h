// shortcut_pad on the CPU. Hand-written: oneDNN has no channel padding, and composing it from a
// strided pooling plus a reorder into a zeroed sub-buffer would take three passes over memory
// where this takes one.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "ops/ref/shortcut_pad.h"
#include "ops/shortcut_pad.h"

namespace ald::cpu {

class ShortcutPadCpu {
 public:
  static absl::StatusOr<std::unique_ptr<ShortcutPadCpu>> Create(const Shape& input,
                                                                const ShortcutPadAttrs& attrs);
  const Shape& output_shape() const { return output_; }

  absl::Status Forward(const Tensor& x, Tensor& y);
  absl::Status Backward(const Tensor& dy, Tensor& dx);

 private:
  Shape input_, output_;
  ref::ShortcutPadDims dims_{};
};

}  // namespace ald::cpu
