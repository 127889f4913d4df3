// Reference average pooling: plain loops over each window; the ground truth for the kernels.
#pragma once

#include <span>

#include "ops/ref/pool2d_window.h"

namespace ald::ref {

// The divisor of a window: the full kernel area when padding counts (the window never reaches
// past the padding with floor-mode output sizes), else the real elements it covers.
inline int64_t AvgPoolDivisor(const PoolGeometry& g, const PoolWindow& window,
                              bool count_include_pad) {
  return count_include_pad ? g.kernel_h * g.kernel_w : window.count();
}

template <typename T>
void AvgPool2dForward(const PoolGeometry& g, bool count_include_pad, std::span<const T> x,
                      std::span<T> y) {
  ForEachPoolWindow(g, [&](const PoolWindow& window) {
    const int64_t plane_offset = window.plane * g.height * g.width;
    T sum = 0;
    for (int64_t h = window.h_begin; h < window.h_end; ++h) {
      for (int64_t w = window.w_begin; w < window.w_end; ++w)
        sum += x[plane_offset + h * g.width + w];
    }
    y[window.out] = sum / T(AvgPoolDivisor(g, window, count_include_pad));
  });
}

template <typename T>
void AvgPool2dBackward(const PoolGeometry& g, bool count_include_pad, std::span<const T> dy,
                       std::span<T> dx) {
  std::fill(dx.begin(), dx.end(), T(0));
  ForEachPoolWindow(g, [&](const PoolWindow& window) {
    const int64_t plane_offset = window.plane * g.height * g.width;
    const T share = dy[window.out] / T(AvgPoolDivisor(g, window, count_include_pad));
    for (int64_t h = window.h_begin; h < window.h_end; ++h) {
      for (int64_t w = window.w_begin; w < window.w_end; ++w)
        dx[plane_offset + h * g.width + w] += share;
    }
  });
}

}  // namespace ald::ref
