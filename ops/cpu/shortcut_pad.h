// shortcut_pad on the CPU. Hand-written: oneDNN has no channel padding, and composing it from a
// strided pooling plus a reorder into a zeroed sub-buffer would take three passes over memory
// where this takes one. Input and output are both plain NCHW or both nChw16c; element addresses
// come from ActivationOffset, with direct loops kept for the plain layout. It only moves
// elements, so its bf16 form is the same loops over 2-byte elements.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "ops/cpu/layout.h"
#include "ops/ref/shortcut_pad.h"
#include "ops/shortcut_pad.h"

namespace ald::cpu {

class ShortcutPadCpu {
 public:
  // x, dx, y and dy all follow `layout` (blocked needs both channel counts % 16 == 0) and have
  // elements of `dtype` (f32 or bf16).
  static absl::StatusOr<std::unique_ptr<ShortcutPadCpu>> Create(
      const Shape& input, const ShortcutPadAttrs& attrs,
      ActivationLayout layout = ActivationLayout::kPlain, DType dtype = DType::kF32);
  const Shape& output_shape() const { return output_; }

  absl::Status Forward(const Tensor& x, Tensor& y);
  absl::Status Backward(const Tensor& dy, Tensor& dx);

 private:
  // Element offsets of x (or dx) and y (or dy) in layout_.
  int64_t InputOffset(int64_t n, int64_t c, int64_t h, int64_t w) const {
    return ActivationOffset(layout_, dims_.in_channels, dims_.height, dims_.width, n, c, h, w);
  }
  int64_t OutputOffset(int64_t n, int64_t c, int64_t h, int64_t w) const {
    return ActivationOffset(layout_, dims_.out_channels, dims_.out_height, dims_.out_width, n, c,
                            h, w);
  }
  // The input's channels are one contiguous range of each output image when the layout is plain
  // or the padding before them is whole 16-channel blocks; the stride-1 backward is then a copy.
  bool ChannelSliceIsContiguous() const;
  // T is the element type: float or BFloat16.
  template <typename T>
  void ForwardPlain(const T* x, T* y) const;
  // Any layout: y zeroed, then every sampled x element written through the offsets.
  template <typename T>
  void ForwardAnyLayout(const T* x, T* y) const;
  // Any layout (the plain one too: the reference's per-element stride test is slower): dx
  // zeroed, then every sampled position read from dy through the offsets.
  template <typename T>
  void BackwardAnyLayout(const T* dy, T* dx) const;
  template <typename T>
  void Forward(const Tensor& x, Tensor& y) const;
  template <typename T>
  void Backward(const Tensor& dy, Tensor& dx) const;

  Shape input_, output_;
  ActivationLayout layout_ = ActivationLayout::kPlain;
  DType dtype_ = DType::kF32;
  ref::ShortcutPadDims dims_{};
};

}  // namespace ald::cpu
