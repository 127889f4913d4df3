#include "ops/cpu/shortcut_pad.h"

#include <algorithm>
#include <cstring>

#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

absl::StatusOr<std::unique_ptr<ShortcutPadCpu>> ShortcutPadCpu::Create(
    const Shape& input, const ShortcutPadAttrs& attrs, ActivationLayout layout) {
  ASSIGN_OR_RETURN(Shape output, ShortcutPadShape(input, attrs));
  RETURN_IF_ERROR(CheckLayout("shortcut_pad input", input, layout));
  RETURN_IF_ERROR(CheckLayout("shortcut_pad output", output, layout));
  auto kernel = std::unique_ptr<ShortcutPadCpu>(new ShortcutPadCpu());
  kernel->input_ = input;
  kernel->output_ = output;
  kernel->layout_ = layout;
  kernel->dims_ = {input[0],  input[1],  input[2],     input[3],
                   output[1], output[2], output[3],    attrs.stride,
                   ShortcutPadBefore(input[1], attrs)};
  return kernel;
}

bool ShortcutPadCpu::ChannelSliceIsContiguous() const {
  // In nChw16c, channel block b of image n spans [(n*C/16 + b) * 16*H*W, ...), so channels
  // [before, before + C_in) are the same byte range as in plain NCHW if `before` % 16 == 0.
  return layout_ == ActivationLayout::kPlain || dims_.before % 16 == 0;
}

void ShortcutPadCpu::ForwardPlain(const float* in, float* out) const {
  const ref::ShortcutPadDims& d = dims_;
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
}

void ShortcutPadCpu::ForwardAnyLayout(const float* in, float* out) const {
  const ref::ShortcutPadDims& d = dims_;
  // Zero first: with `before` not a multiple of 16 the padding channels share blocks with the
  // copied ones, so they are not whole ranges to memset. Channels innermost: in nChw16c they
  // are adjacent in memory on both sides.
  std::fill_n(out, output_.num_elements(), 0.f);
  for (int64_t n = 0; n < d.batch; ++n)
    for (int64_t i = 0; i < d.out_height; ++i)
      for (int64_t j = 0; j < d.out_width; ++j)
        for (int64_t c = 0; c < d.in_channels; ++c)
          out[OutputOffset(n, c + d.before, i, j)] =
              in[InputOffset(n, c, i * d.stride, j * d.stride)];
}

void ShortcutPadCpu::BackwardAnyLayout(const float* dy, float* dx) const {
  const ref::ShortcutPadDims& d = dims_;
  // Positions the stride skips get no gradient.
  std::fill_n(dx, input_.num_elements(), 0.f);
  for (int64_t n = 0; n < d.batch; ++n)
    for (int64_t i = 0; i < d.out_height; ++i)
      for (int64_t j = 0; j < d.out_width; ++j)
        for (int64_t c = 0; c < d.in_channels; ++c)
          dx[InputOffset(n, c, i * d.stride, j * d.stride)] =
              dy[OutputOffset(n, c + d.before, i, j)];
}

absl::Status ShortcutPadCpu::Forward(const Tensor& x, Tensor& y) {
  RETURN_IF_ERROR(CheckTensor("shortcut_pad forward", "x", x, input_));
  RETURN_IF_ERROR(CheckTensor("shortcut_pad forward", "y", y, output_));
  if (layout_ == ActivationLayout::kPlain) {
    ForwardPlain(x.data<float>(), y.data<float>());
  } else {
    ForwardAnyLayout(x.data<float>(), y.data<float>());
  }
  return absl::OkStatus();
}

absl::Status ShortcutPadCpu::Backward(const Tensor& dy, Tensor& dx) {
  RETURN_IF_ERROR(CheckTensor("shortcut_pad backward", "dy", dy, output_));
  RETURN_IF_ERROR(CheckTensor("shortcut_pad backward", "dx", dx, input_));
  if (dims_.stride == 1 && ChannelSliceIsContiguous()) {
    // A pure channel slice: one contiguous copy per image.
    const int64_t plane = dims_.height * dims_.width;
    for (int64_t n = 0; n < dims_.batch; ++n)
      std::memcpy(dx.data<float>() + n * dims_.in_channels * plane,
                  dy.data<float>() + (n * dims_.out_channels + dims_.before) * plane,
                  sizeof(float) * dims_.in_channels * plane);
    return absl::OkStatus();
  }
  BackwardAnyLayout(dy.data<float>(), dx.data<float>());
  return absl::OkStatus();
}

}  // namespace ald::cpu
