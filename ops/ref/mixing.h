// Reference consensus kernels: y += a·x, x *= a and out = Σ_j w_j·in_j, as plain loops.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace ald::ref {

template <typename T>
void Axpy(T a, std::span<const T> x, std::span<T> y) {
  for (size_t i = 0; i < y.size(); ++i) y[i] += a * x[i];
}

template <typename T>
void Scale(T a, std::span<T> x) {
  for (T& value : x) value *= a;
}

// Accumulates into a temporary first, so that `out` may be one of the inputs.
template <typename T>
void WeightedSum(std::span<const T> weights, std::span<const std::span<const T>> inputs,
                 std::span<T> out) {
  std::vector<T> sum(out.size(), T(0));
  for (size_t j = 0; j < inputs.size(); ++j) {
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += weights[j] * inputs[j][i];
  }
  for (size_t i = 0; i < sum.size(); ++i) out[i] = sum[i];
}

}  // namespace ald::ref
