#include "ops/cpu/shortcut_pad.h"

#include <cstring>

#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

absl::StatusOr<std::unique_ptr<ShortcutPadCpu>> ShortcutPadCpu::Create(
    const Shape& input, const ShortcutPadAttrs& attrs) {
  ASSIGN_OR_RETURN(Shape output, ShortcutPadShape(input, attrs));
  auto kernel = std::unique_ptr<ShortcutPadCpu>(new ShortcutPadCpu());
  kernel->input_ = input;
  kernel->output_ = output;
  kernel->dims_ = {input[0],  input[1],  input[2],     input[3],
                   output[1], output[2], output[3],    attrs.stride,
                   ShortcutPadBefore(input[1], attrs)};
  return kernel;
}

absl::Status ShortcutPadCpu::Forward(const Tensor& x, Tensor& y) {
  RETURN_IF_ERROR(CheckTensor("shortcut_pad forward", "x", x, input_));
  RETURN_IF_ERROR(CheckTensor("shortcut_pad forward", "y", y, output_));
  const ref::ShortcutPadDims& d = dims_;
  const float* in = x.data<float>();
  float* out = y.data<float>();
  const int64_t plane = d.out_height * d.out_width;
  // Whole zero channels are cleared with memset; the copied channels are strided gathers.
  for (int64_t n = 0; n < d.batch; ++n) {
    float* image = out + n * d.out_channels * plane;
    std::memset(image, 0, sizeof(float) * d.before * plane);
    const int64_t after = d.out_channels - d.before - d.in_channels;
    std::memset(image + (d.before + d.in_channels) * plane, 0, sizeof(float) * after * plane);
    for (int64_t c = 0; c < d.in_channels; ++c) {
      const float* source = in + (n * d.in_channels + c) * d.height * d.width;
      float* target = image + (d.before + c) * plane;
      for (int64_t i = 0; i < d.out_height; ++i)
        for (int64_t j = 0; j < d.out_width; ++j)
          target[i * d.out_width + j] = source[i * d.stride * d.width + j * d.stride];
    }
  }
  return absl::OkStatus();
}

absl::Status ShortcutPadCpu::Backward(const Tensor& dy, Tensor& dx) {
  RETURN_IF_ERROR(CheckTensor("shortcut_pad backward", "dy", dy, output_));
  RETURN_IF_ERROR(CheckTensor("shortcut_pad backward", "dx", dx, input_));
  if (dims_.stride == 1) {
    // A pure channel slice: one contiguous copy per image.
    const int64_t plane = dims_.height * dims_.width;
    for (int64_t n = 0; n < dims_.batch; ++n)
      std::memcpy(dx.data<float>() + n * dims_.in_channels * plane,
                  dy.data<float>() + (n * dims_.out_channels + dims_.before) * plane,
                  sizeof(float) * dims_.in_channels * plane);
    return absl::OkStatus();
  }
  ref::ShortcutPadBackward<float>(dims_, dy.values<float>(), dx.values<float>());
  return absl::OkStatus();
}

}  // namespace ald::cpu
