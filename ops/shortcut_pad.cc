#include "ops/shortcut_pad.h"

#include "absl/strings/str_cat.h"
#include "ops/pool2d_window.h"

namespace ald {

absl::StatusOr<Shape> ShortcutPadShape(const Shape& input, const ShortcutPadAttrs& attrs) {
  if (absl::Status nchw = CheckNchwInput("shortcut_pad", input); !nchw.ok()) return nchw;
  if (attrs.stride < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("shortcut_pad: stride is ", attrs.stride, ", expected >= 1"));
  }
  if (attrs.out_channels < input[1]) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shortcut_pad: cannot pad ", input[1], " channels down to ", attrs.out_channels,
        " (input ", input.ToString(), ")"));
  }
  return Shape{input[0], attrs.out_channels, (input[2] - 1) / attrs.stride + 1,
               (input[3] - 1) / attrs.stride + 1};
}

}  // namespace ald
