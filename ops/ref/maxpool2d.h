// Reference max pooling: plain loops over each window; the ground truth for the kernels.
#pragma once

#include <span>

#include "ops/ref/pool2d_window.h"

namespace ald::ref {

// Flat input index of the first maximum (row-major within the window) of `window`.
template <typename T>
int64_t ArgMaxInWindow(const PoolGeometry& g, const PoolWindow& window, std::span<const T> x) {
  const int64_t plane_offset = window.plane * g.height * g.width;
  int64_t best = plane_offset + window.h_begin * g.width + window.w_begin;
  for (int64_t h = window.h_begin; h < window.h_end; ++h) {
    for (int64_t w = window.w_begin; w < window.w_end; ++w) {
      const int64_t i = plane_offset + h * g.width + w;
      if (x[i] > x[best]) best = i;
    }
  }
  return best;
}

template <typename T>
void MaxPool2dForward(const PoolGeometry& g, std::span<const T> x, std::span<T> y) {
  ForEachPoolWindow(
      g, [&](const PoolWindow& window) { y[window.out] = x[ArgMaxInWindow(g, window, x)]; });
}

// Each output gradient goes to the first maximum of its window (test inputs have no ties, so
// the kernel's choice among equal values does not matter); overlapping windows accumulate.
template <typename T>
void MaxPool2dBackward(const PoolGeometry& g, std::span<const T> x, std::span<const T> dy,
                       std::span<T> dx) {
  std::fill(dx.begin(), dx.end(), T(0));
  ForEachPoolWindow(
      g, [&](const PoolWindow& window) { dx[ArgMaxInWindow(g, window, x)] += dy[window.out]; });
}

}  // namespace ald::ref
