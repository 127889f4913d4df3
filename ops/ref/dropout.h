// Reference inverted dropout for a given keep mask: plain loops, the ground truth for kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ald::ref {

template <typename T>
void DropoutForward(std::span<const T> x, std::span<const uint8_t> keep, T p, std::span<T> y) {
  for (size_t i = 0; i < x.size(); ++i) y[i] = keep[i] ? x[i] / (T(1) - p) : T(0);
}

// The same map applied to the gradient: y is linear in x for a fixed mask.
template <typename T>
void DropoutBackward(std::span<const T> dy, std::span<const uint8_t> keep, T p, std::span<T> dx) {
  DropoutForward<T>(dy, keep, p, dx);
}

}  // namespace ald::ref
