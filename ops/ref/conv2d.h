// Reference 2-D convolution (NCHW input, OIHW weight, groups 1, no dilation) and its gradients
// for input, weight and bias. Plain loops over every tap: the ground truth for the kernels.
#pragma once

#include <cstdint>
#include <span>

namespace ald::ref {

struct Conv2dDims {
  int64_t batch = 1, in_channels = 1, height = 1, width = 1;
  int64_t out_channels = 1, kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t out_h() const { return (height + 2 * pad_h - kernel_h) / stride_h + 1; }
  int64_t out_w() const { return (width + 2 * pad_w - kernel_w) / stride_w + 1; }
};

// Calls tap(x_index, w_index, y_index) for every (output element, weight element) pair that
// multiplies a real (not padded) input element. Forward and both gradients are this one loop
// nest with a different accumulation, so they cannot disagree about indexing.
template <typename Tap>
void ForEachConv2dTap(const Conv2dDims& d, Tap&& tap) {
  const int64_t oh = d.out_h(), ow = d.out_w();
  for (int64_t n = 0; n < d.batch; ++n)
    for (int64_t k = 0; k < d.out_channels; ++k)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox) {
          const int64_t y_index = ((n * d.out_channels + k) * oh + oy) * ow + ox;
          for (int64_t c = 0; c < d.in_channels; ++c)
            for (int64_t r = 0; r < d.kernel_h; ++r) {
              const int64_t iy = oy * d.stride_h - d.pad_h + r;
              if (iy < 0 || iy >= d.height) continue;
              for (int64_t s = 0; s < d.kernel_w; ++s) {
                const int64_t ix = ox * d.stride_w - d.pad_w + s;
                if (ix < 0 || ix >= d.width) continue;
                const int64_t x_index = ((n * d.in_channels + c) * d.height + iy) * d.width + ix;
                const int64_t w_index = ((k * d.in_channels + c) * d.kernel_h + r) * d.kernel_w + s;
                tap(x_index, w_index, y_index);
              }
            }
        }
}

// y = conv(x, w) + b; `b` may be empty (no bias).
template <typename T>
void Conv2dForward(const Conv2dDims& d, std::span<const T> x, std::span<const T> w,
                   std::span<const T> b, std::span<T> y) {
  const int64_t plane = d.out_h() * d.out_w();
  for (int64_t i = 0; i < static_cast<int64_t>(y.size()); ++i) {
    y[i] = b.empty() ? T(0) : b[(i / plane) % d.out_channels];
  }
  ForEachConv2dTap(d, [&](int64_t xi, int64_t wi, int64_t yi) { y[yi] += x[xi] * w[wi]; });
}

// dx = conv_transpose(dy, w).
template <typename T>
void Conv2dBackwardData(const Conv2dDims& d, std::span<const T> dy, std::span<const T> w,
                        std::span<T> dx) {
  for (T& v : dx) v = T(0);
  ForEachConv2dTap(d, [&](int64_t xi, int64_t wi, int64_t yi) { dx[xi] += dy[yi] * w[wi]; });
}

// dw = correlation of x with dy; db = dy summed over N, H', W' (skipped when `db` is empty).
template <typename T>
void Conv2dBackwardWeights(const Conv2dDims& d, std::span<const T> x, std::span<const T> dy,
                           std::span<T> dw, std::span<T> db) {
  for (T& v : dw) v = T(0);
  ForEachConv2dTap(d, [&](int64_t xi, int64_t wi, int64_t yi) { dw[wi] += dy[yi] * x[xi]; });
  if (db.empty()) return;
  for (T& v : db) v = T(0);
  const int64_t plane = d.out_h() * d.out_w();
  for (int64_t i = 0; i < static_cast<int64_t>(dy.size()); ++i) {
    db[(i / plane) % d.out_channels] += dy[i];
  }
}

}  // namespace ald::ref
