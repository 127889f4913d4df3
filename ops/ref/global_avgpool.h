// Reference global average pooling: the mean of each contiguous plane of `plane_size` elements.
#pragma once

#include <cstdint>
#include <span>

namespace ald::ref {

template <typename T>
void GlobalAvgPoolForward(int64_t plane_size, std::span<const T> x, std::span<T> y) {
  for (size_t plane = 0; plane < y.size(); ++plane) {
    T sum = 0;
    for (int64_t i = 0; i < plane_size; ++i) sum += x[plane * plane_size + i];
    y[plane] = sum / T(plane_size);
  }
}

template <typename T>
void GlobalAvgPoolBackward(int64_t plane_size, std::span<const T> dy, std::span<T> dx) {
  for (size_t plane = 0; plane < dy.size(); ++plane) {
    for (int64_t i = 0; i < plane_size; ++i) dx[plane * plane_size + i] = dy[plane] / T(plane_size);
  }
}

}  // namespace ald::ref
