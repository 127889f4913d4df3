// Reference elementwise add with optional fused ReLU: plain loops, the ground truth for kernels.
#pragma once

#include <cstddef>
#include <span>

namespace ald::ref {

template <typename T>
void AddForward(std::span<const T> a, std::span<const T> b, bool fuse_relu, std::span<T> y) {
  for (size_t i = 0; i < a.size(); ++i) {
    const T sum = a[i] + b[i];
    y[i] = fuse_relu && sum < T(0) ? T(0) : sum;
  }
}

// The gradient of both inputs (they are equal): dy, masked by y > 0 when the ReLU is fused.
template <typename T>
void AddBackward(std::span<const T> y, std::span<const T> dy, bool fuse_relu, std::span<T> dx) {
  for (size_t i = 0; i < dy.size(); ++i) dx[i] = !fuse_relu || y[i] > T(0) ? dy[i] : T(0);
}

}  // namespace ald::ref
