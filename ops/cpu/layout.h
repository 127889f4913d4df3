// The physical layout of a 4-D activation (or its gradient) between layers. A Tensor always
// keeps its logical shape [N, C, H, W]; the kernel is told at Create time which layout the
// bytes follow. nChw16c is only offered for C % 16 == 0: then it has no channel padding, holds
// exactly the bytes of plain NCHW, and the graph's memory planner needs no change.
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
  kBlocked16,  // oneDNN's nChw16c: rank 4 with C % 16 == 0 only
  // NHWC (channels last): rank 4. Where bf16 runs on AMX: oneDNN 2.6 has AMX convolutions for
  // it only (a 16-channel 3x3 convolution, batch 128: 5.7 ms forward against 35 ms in bf16
  // nChw16c, which is slower than f32), so --precision=bf16 keeps activations in it.
  kChannelsLast,
};

const char* LayoutName(ActivationLayout layout);

// Whether oneDNN has f32 kernels for nChw16c on this CPU: with AVX-512 only. AVX2's kernels
// block channels by 8, so there every convolution over nChw16c falls to oneDNN's reference
// implementation (ResNet-20's step: tens of seconds instead of tens of milliseconds).
bool Blocked16HasKernels();

// InvalidArgument naming `op`, the shape and the layout unless `layout` can hold `shape`.
absl::Status CheckLayout(const std::string& op, const Shape& shape, ActivationLayout layout);

// The oneDNN descriptor of `shape` in `layout` with elements of `dtype` (f32, or bf16 under
// --precision=bf16); call CheckLayout first (a blocked desc of a shape it rejects would have
// padded channels and a different byte size).
dnnl::memory::desc ActivationDesc(const Shape& shape, ActivationLayout layout,
                                  DType dtype = DType::kF32);

// Element offset of (n, c, h, w) in a [N, channels, height, width] tensor laid out in `layout`.
// Inline for hand-written loops (shortcut_pad); `channels` must be a multiple of 16 if blocked.
inline int64_t ActivationOffset(ActivationLayout layout, int64_t channels, int64_t height,
                                int64_t width, int64_t n, int64_t c, int64_t h, int64_t w) {
  if (layout == ActivationLayout::kPlain) return ((n * channels + c) * height + h) * width + w;
  if (layout == ActivationLayout::kChannelsLast) return ((n * height + h) * width + w) * channels + c;
  return ((n * (channels / 16) + c / 16) * height + h) * width * 16 + w * 16 + c % 16;
}

}  // namespace ald::cpu
