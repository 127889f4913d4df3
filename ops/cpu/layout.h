// The physical layout of a 4-D activation (or its gradient) between layers. A Tensor always
// keeps its logical shape [N, C, H, W]; the kernel is told at Create time which layout the
// bytes follow. nChw16c (nChw8c) is only offered for C % 16 == 0 (C % 8 == 0): then it has no
// channel padding, holds exactly the bytes of plain NCHW, and the graph's memory planner needs no
// change.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "core/dtype.h"
#include "core/shape.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace ald::cpu {

enum class ActivationLayout {
  kPlain,      // row-major (NCHW for rank 4), any rank
  kBlocked16,  // oneDNN's nChw16c: rank 4 with C % 16 == 0 only (AVX-512's block)
  kBlocked8,   // oneDNN's nChw8c: rank 4 with C % 8 == 0 only (AVX2's block: 8 floats a register)
  // NHWC (channels last): rank 4. Where bf16 runs on AMX: oneDNN 2.6 has AMX convolutions for
  // it only (a 16-channel 3x3 convolution, batch 128: 5.7 ms forward against 35 ms in bf16
  // nChw16c, which is slower than f32), so --precision=bf16 keeps activations in it.
  kChannelsLast,
};

const char* LayoutName(ActivationLayout layout);

// Channels per block: 16 (nChw16c), 8 (nChw8c), 1 (plain, NHWC).
int ChannelBlock(ActivationLayout layout);

// Whether this CPU's oneDNN kernels read nChw16c natively: AVX-512 (16 floats a register).
bool Blocked16IsNative();
// The channel-blocked layout this CPU's oneDNN kernels read natively: nChw16c with AVX-512,
// nChw8c below it. (AVX2 kernels are written for nChw8c; given nChw16c oneDNN settles on its
// reference loops, which made a ResNet-8 step take seconds instead of milliseconds.)
ActivationLayout NativeBlockedLayout();

// InvalidArgument naming `op`, the shape and the layout unless `layout` can hold `shape`.
absl::Status CheckLayout(const std::string& op, const Shape& shape, ActivationLayout layout);

// The oneDNN descriptor of `shape` in `layout` with elements of `dtype` (f32, or bf16 under
// --precision=bf16); call CheckLayout first (a blocked desc of a shape it rejects would have
// padded channels and a different byte size).
dnnl::memory::desc ActivationDesc(const Shape& shape, ActivationLayout layout,
                                  DType dtype = DType::kF32);

// Element offset of (n, c, h, w) in a [N, channels, height, width] tensor laid out in `layout`.
// Inline for hand-written loops (shortcut_pad); `channels` must be a multiple of the block if
// blocked.
inline int64_t ActivationOffset(ActivationLayout layout, int64_t channels, int64_t height,
                                int64_t width, int64_t n, int64_t c, int64_t h, int64_t w) {
  if (layout == ActivationLayout::kPlain) return ((n * channels + c) * height + h) * width + w;
  if (layout == ActivationLayout::kChannelsLast) return ((n * height + h) * width + w) * channels + c;
  const int64_t block = layout == ActivationLayout::kBlocked8 ? 8 : 16;
  return ((n * (channels / block) + c / block) * height + h) * width * block + w * block +
         c % block;
}

}  // namespace ald::cpu
