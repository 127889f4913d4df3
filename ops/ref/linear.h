// Reference fully connected layer y = x·Wᵀ + b (x [N, in], W [out, in], b [out]) and its
// gradients for x, W and b. Plain loops: the ground truth for the kernels.
#pragma once

#include <cstdint>
#include <span>

namespace ald::ref {

struct LinearDims {
  int64_t batch = 1, in_features = 1, out_features = 1;
};

// `b` may be empty (no bias).
template <typename T>
void LinearForward(const LinearDims& d, std::span<const T> x, std::span<const T> w,
                   std::span<const T> b, std::span<T> y) {
  for (int64_t n = 0; n < d.batch; ++n)
    for (int64_t o = 0; o < d.out_features; ++o) {
      T sum = b.empty() ? T(0) : b[o];
      for (int64_t i = 0; i < d.in_features; ++i) {
        sum += x[n * d.in_features + i] * w[o * d.in_features + i];
      }
      y[n * d.out_features + o] = sum;
    }
}

// dx = dy·W.
template <typename T>
void LinearBackwardData(const LinearDims& d, std::span<const T> dy, std::span<const T> w,
                        std::span<T> dx) {
  for (int64_t n = 0; n < d.batch; ++n)
    for (int64_t i = 0; i < d.in_features; ++i) {
      T sum = T(0);
      for (int64_t o = 0; o < d.out_features; ++o) {
        sum += dy[n * d.out_features + o] * w[o * d.in_features + i];
      }
      dx[n * d.in_features + i] = sum;
    }
}

// dW = dyᵀ·x; db = dy summed over the batch (skipped when `db` is empty).
template <typename T>
void LinearBackwardWeights(const LinearDims& d, std::span<const T> x, std::span<const T> dy,
                           std::span<T> dw, std::span<T> db) {
  for (int64_t o = 0; o < d.out_features; ++o) {
    for (int64_t i = 0; i < d.in_features; ++i) {
      T sum = T(0);
      for (int64_t n = 0; n < d.batch; ++n) {
        sum += dy[n * d.out_features + o] * x[n * d.in_features + i];
      }
      dw[o * d.in_features + i] = sum;
    }
    if (db.empty()) continue;
    T bias_sum = T(0);
    for (int64_t n = 0; n < d.batch; ++n) bias_sum += dy[n * d.out_features + o];
    db[o] = bias_sum;
  }
}

}  // namespace ald::ref
