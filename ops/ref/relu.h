// Reference ReLU: y = max(x, 0); dx = dy where y > 0. Plain loops, the ground truth for kernels.
#pragma once

#include <cstddef>
#include <span>

namespace ald::ref {

template <typename T>
void ReluForward(std::span<const T> x, std::span<T> y) {
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}

// Written in terms of the forward output y, as the kernel is, so that x may be overwritten.
template <typename T>
void ReluBackward(std::span<const T> y, std::span<const T> dy, std::span<T> dx) {
  for (size_t i = 0; i < y.size(); ++i) dx[i] = y[i] > T(0) ? dy[i] : T(0);
}

}  // namespace ald::ref
