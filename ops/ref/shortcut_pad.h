// Reference shortcut_pad: y[n, c + before, i, j] = x[n, c, i*s, j*s], zeros elsewhere; the
// backward scatters dy back to the subsampled positions and leaves the others 0.
#pragma once

#include <cstdint>
#include <span>

namespace ald::ref {

struct ShortcutPadDims {
  int64_t batch, in_channels, height, width, out_channels, out_height, out_width, stride, before;
};

template <typename T>
void ShortcutPadForward(const ShortcutPadDims& d, std::span<const T> x, std::span<T> y) {
  for (int64_t n = 0; n < d.batch; ++n)
    for (int64_t k = 0; k < d.out_channels; ++k)
      for (int64_t i = 0; i < d.out_height; ++i)
        for (int64_t j = 0; j < d.out_width; ++j) {
          const int64_t c = k - d.before;
          const bool inside = c >= 0 && c < d.in_channels;
          y[((n * d.out_channels + k) * d.out_height + i) * d.out_width + j] =
              inside ? x[((n * d.in_channels + c) * d.height + i * d.stride) * d.width +
                         j * d.stride]
                     : T(0);
        }
}

template <typename T>
void ShortcutPadBackward(const ShortcutPadDims& d, std::span<const T> dy, std::span<T> dx) {
  for (int64_t n = 0; n < d.batch; ++n)
    for (int64_t c = 0; c < d.in_channels; ++c)
      for (int64_t h = 0; h < d.height; ++h)
        for (int64_t w = 0; w < d.width; ++w) {
          const bool sampled = h % d.stride == 0 && w % d.stride == 0;
          dx[((n * d.in_channels + c) * d.height + h) * d.width + w] =
              sampled ? dy[((n * d.out_channels + c + d.before) * d.out_height + h / d.stride) *
                               d.out_width +
                           w / d.stride]
                      : T(0);
        }
}

}  // namespace ald::ref
