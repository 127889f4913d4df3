// Window geometry shared by the pooling references: NCHW input, symmetric padding, output size
// floor((H + 2p - k) / s) + 1 (PyTorch's ceil_mode = false).
#pragma once

#include <algorithm>
#include <cstdint>

namespace ald::ref {

struct PoolGeometry {
  int64_t batch, channels, height, width;
  int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;

  int64_t out_height() const { return (height + 2 * pad_h - kernel_h) / stride_h + 1; }
  int64_t out_width() const { return (width + 2 * pad_w - kernel_w) / stride_w + 1; }
  int64_t planes() const { return batch * channels; }
};

// The part of one window that lies on the real input: rows [h_begin, h_end), columns
// [w_begin, w_end) of plane `plane` (= n * C + c); `out` is the output element's flat index.
struct PoolWindow {
  int64_t plane, out, h_begin, h_end, w_begin, w_end;
  int64_t count() const { return (h_end - h_begin) * (w_end - w_begin); }
};

// Calls visit(window) for every output element in row-major order.
template <typename Visit>
void ForEachPoolWindow(const PoolGeometry& g, Visit&& visit) {
  const int64_t oh_count = g.out_height(), ow_count = g.out_width();
  int64_t out = 0;
  for (int64_t plane = 0; plane < g.planes(); ++plane) {
    for (int64_t oh = 0; oh < oh_count; ++oh) {
      for (int64_t ow = 0; ow < ow_count; ++ow, ++out) {
        const int64_t h0 = oh * g.stride_h - g.pad_h, w0 = ow * g.stride_w - g.pad_w;
        visit(PoolWindow{plane, out, std::max<int64_t>(h0, 0), std::min(h0 + g.kernel_h, g.height),
                         std::max<int64_t>(w0, 0), std::min(w0 + g.kernel_w, g.width)});
      }
    }
  }
}

}  // namespace ald::ref
