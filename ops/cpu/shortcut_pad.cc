#include "ops/cpu/shortcut_pad.h"

#include <algorithm>
#include <cstring>

#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

absl::StatusOr<std::unique_ptr<ShortcutPadCpu>> ShortcutPadCpu::Create(
    const Shape& input, const ShortcutPadAttrs& attrs, ActivationLayout layout, DType dtype) {
  ASSIGN_OR_RETURN(Shape output, ShortcutPadShape(input, attrs));
  RETURN_IF_ERROR(CheckLayout("shortcut_pad input", input, layout));
  RETURN_IF_ERROR(CheckLayout("shortcut_pad output", output, layout));
  auto kernel = std::unique_ptr<ShortcutPadCpu>(new ShortcutPadCpu());
  kernel->input_ = input;
  kernel->output_ = output;
  kernel->layout_ = layout;
  kernel->dtype_ = dtype;
  kernel->dims_ = {input[0],  input[1],  input[2],     input[3],
                   output[1], output[2], output[3],    attrs.stride,
                   ShortcutPadBefore(input[1], attrs)};
  return kernel;
}

bool ShortcutPadCpu::ChannelSliceIsContiguous() const {
  // In nChw16c (block B = 16; nChw8c: 8), channel block b of image n spans
  // [(n*C/B + b) * B*H*W, ...), so channels [before, before + C_in) are the same byte range as in
  // plain NCHW if `before` % B == 0.
  if (layout_ == ActivationLayout::kChannelsLast) return false;  // channels are per pixel
  return layout_ == ActivationLayout::kPlain || dims_.before % ChannelBlock(layout_) == 0;
}

template <typename T>
void ShortcutPadCpu::ForwardPlain(const T* in, T* out) const {
  const ref::ShortcutPadDims& d = dims_;
  const int64_t plane = d.out_height * d.out_width;
  // Whole zero channels are cleared in one fill each; the copied channels are strided gathers.
  for (int64_t n = 0; n < d.batch; ++n) {
    T* image = out + n * d.out_channels * plane;
    std::fill_n(image, d.before * plane, T{});
    const int64_t after = d.out_channels - d.before - d.in_channels;
    std::fill_n(image + (d.before + d.in_channels) * plane, after * plane, T{});
    for (int64_t c = 0; c < d.in_channels; ++c) {
      const T* source = in + (n * d.in_channels + c) * d.height * d.width;
      T* target = image + (d.before + c) * plane;
      for (int64_t i = 0; i < d.out_height; ++i)
        for (int64_t j = 0; j < d.out_width; ++j)
          target[i * d.out_width + j] = source[i * d.stride * d.width + j * d.stride];
    }
  }
}

template <typename T>
void ShortcutPadCpu::ForwardAnyLayout(const T* in, T* out) const {
  const ref::ShortcutPadDims& d = dims_;
  // Zero first: with `before` not a multiple of the block the padding channels share blocks
  // with the copied ones, so they are not whole ranges to memset. Channels innermost: in a
  // blocked layout they are adjacent in memory on both sides.
  std::fill_n(out, output_.num_elements(), T{});
  for (int64_t n = 0; n < d.batch; ++n)
    for (int64_t i = 0; i < d.out_height; ++i)
      for (int64_t j = 0; j < d.out_width; ++j)
        for (int64_t c = 0; c < d.in_channels; ++c)
          out[OutputOffset(n, c + d.before, i, j)] =
              in[InputOffset(n, c, i * d.stride, j * d.stride)];
}

template <typename T>
void ShortcutPadCpu::BackwardAnyLayout(const T* dy, T* dx) const {
  const ref::ShortcutPadDims& d = dims_;
  // Positions the stride skips get no gradient.
  std::fill_n(dx, input_.num_elements(), T{});  // +0 in both types
  for (int64_t n = 0; n < d.batch; ++n)
    for (int64_t i = 0; i < d.out_height; ++i)
      for (int64_t j = 0; j < d.out_width; ++j)
        for (int64_t c = 0; c < d.in_channels; ++c)
          dx[InputOffset(n, c, i * d.stride, j * d.stride)] =
              dy[OutputOffset(n, c + d.before, i, j)];
}

template <typename T>
void ShortcutPadCpu::Forward(const Tensor& x, Tensor& y) const {
  if (layout_ == ActivationLayout::kPlain) {
    ForwardPlain(x.data<T>(), y.data<T>());
  } else {
    ForwardAnyLayout(x.data<T>(), y.data<T>());
  }
}

template <typename T>
void ShortcutPadCpu::Backward(const Tensor& dy, Tensor& dx) const {
  if (dims_.stride == 1 && ChannelSliceIsContiguous()) {
    // A pure channel slice: one contiguous copy per image.
    const int64_t plane = dims_.height * dims_.width;
    for (int64_t n = 0; n < dims_.batch; ++n)
      std::memcpy(dx.data<T>() + n * dims_.in_channels * plane,
                  dy.data<T>() + (n * dims_.out_channels + dims_.before) * plane,
                  sizeof(T) * dims_.in_channels * plane);
    return;
  }
  BackwardAnyLayout(dy.data<T>(), dx.data<T>());
}

absl::Status ShortcutPadCpu::Forward(const Tensor& x, Tensor& y) {
  RETURN_IF_ERROR(CheckTensor("shortcut_pad forward", "x", x, input_, dtype_));
  RETURN_IF_ERROR(CheckTensor("shortcut_pad forward", "y", y, output_, dtype_));
  if (dtype_ == DType::kBF16) {
    Forward<BFloat16>(x, y);
  } else {
    Forward<float>(x, y);
  }
  return absl::OkStatus();
}

absl::Status ShortcutPadCpu::Backward(const Tensor& dy, Tensor& dx) {
  RETURN_IF_ERROR(CheckTensor("shortcut_pad backward", "dy", dy, output_, dtype_));
  RETURN_IF_ERROR(CheckTensor("shortcut_pad backward", "dx", dx, input_, dtype_));
  if (dtype_ == DType::kBF16) {
    Backward<BFloat16>(dy, dx);
  } else {
    Backward<float>(dy, dx);
  }
  return absl::OkStatus();
}

}  // namespace ald::cpu
