// ShortcutPadCuda: geometry from the CPU shape rule, then the two kernels of kernels.cu.
#include "ops/cuda/shortcut_pad.h"

#include "ops/cuda/cuda_status.h"

namespace ald::cuda {

absl::StatusOr<std::unique_ptr<ShortcutPadCuda>> ShortcutPadCuda::Create(
    const CudaHandles& handles, const Shape& input, const ShortcutPadAttrs& attrs) {
  ASSIGN_OR_RETURN(Shape output, ShortcutPadShape(input, attrs));
  std::unique_ptr<ShortcutPadCuda> op(new ShortcutPadCuda());
  op->handles_ = &handles;
  op->input_ = input;
  op->output_ = output;
  op->geometry_ =
      kernels::ShortcutPadGeometry{input[0],  input[1],     input[2],
                                   input[3],  output[1],    output[2],
                                   output[3], attrs.stride, ShortcutPadBefore(input[1], attrs)};
  return op;
}

absl::Status ShortcutPadCuda::Forward(const float* x, float* y) const {
  RETURN_IF_CUDA_ERROR(kernels::ShortcutPadForward(geometry_, x, y, handles_->stream()));
  return absl::OkStatus();
}

absl::Status ShortcutPadCuda::Backward(const float* dy, float* dx) const {
  RETURN_IF_CUDA_ERROR(kernels::ShortcutPadBackward(geometry_, dy, dx, handles_->stream()));
  return absl::OkStatus();
}

}  // namespace ald::cuda
