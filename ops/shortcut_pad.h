// shortcut_pad: He et al.'s parameter-free ResNet shortcut ("option A"): subsample an NCHW
// input by `stride` in H and W and zero-pad its channels to `out_channels`, split evenly before
// and after (as the reference CIFAR ResNets do with F.pad(x[:, :, ::2, ::2], ...)).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/shape.h"

namespace ald {

struct ShortcutPadAttrs {
  int64_t out_channels = 0;
  int64_t stride = 1;
};

// [N, C, H, W] -> [N, out_channels, (H - 1) / stride + 1, (W - 1) / stride + 1]. Rejects a rank
// other than 4, stride < 1 and out_channels < C.
absl::StatusOr<Shape> ShortcutPadShape(const Shape& input, const ShortcutPadAttrs& attrs);

// Channels of zeros placed before the input's channels.
inline int64_t ShortcutPadBefore(int64_t in_channels, const ShortcutPadAttrs& attrs) {
  return (attrs.out_channels - in_channels) / 2;
}

}  // namespace ald
