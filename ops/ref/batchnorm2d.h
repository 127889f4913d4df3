// Reference batch normalisation over NCHW (PyTorch semantics): batch statistics with the biased
// variance, normalisation with given statistics, and the training backward for x, gamma, beta.
// Plain loops: the ground truth for the kernels.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

namespace ald::ref {

struct BatchNorm2dDims {
  int64_t batch = 1, channels = 1, height = 1, width = 1;
  int64_t per_channel() const { return batch * height * width; }
};

// Calls visit(index) for every element of channel c.
template <typename Visit>
void ForEachInChannel(const BatchNorm2dDims& d, int64_t c, Visit&& visit) {
  const int64_t plane = d.height * d.width;
  for (int64_t n = 0; n < d.batch; ++n) {
    const int64_t base = (n * d.channels + c) * plane;
    for (int64_t i = 0; i < plane; ++i) visit(base + i);
  }
}

// Per-channel mean and biased variance (divided by N*H*W).
template <typename T>
void BatchNorm2dStatistics(const BatchNorm2dDims& d, std::span<const T> x, std::span<T> mean,
                           std::span<T> var) {
  const T count = static_cast<T>(d.per_channel());
  for (int64_t c = 0; c < d.channels; ++c) {
    T sum = T(0), squares = T(0);
    ForEachInChannel(d, c, [&](int64_t i) { sum += x[i]; });
    mean[c] = sum / count;
    ForEachInChannel(d, c, [&](int64_t i) { squares += (x[i] - mean[c]) * (x[i] - mean[c]); });
    var[c] = squares / count;
  }
}

// y = gamma * (x - mean) / sqrt(var + eps) + beta with the given statistics (inference form).
template <typename T>
void BatchNorm2dNormalize(const BatchNorm2dDims& d, std::span<const T> x,
                          std::span<const T> gamma, std::span<const T> beta,
                          std::span<const T> mean, std::span<const T> var, T eps, std::span<T> y) {
  for (int64_t c = 0; c < d.channels; ++c) {
    const T inv_std = T(1) / std::sqrt(var[c] + eps);
    ForEachInChannel(d, c, [&](int64_t i) { y[i] = gamma[c] * (x[i] - mean[c]) * inv_std + beta[c]; });
  }
}

// Training forward: the batch statistics (returned in mean and var), then normalisation by them.
template <typename T>
void BatchNorm2dForwardTraining(const BatchNorm2dDims& d, std::span<const T> x,
                                std::span<const T> gamma, std::span<const T> beta, T eps,
                                std::span<T> y, std::span<T> mean, std::span<T> var) {
  BatchNorm2dStatistics<T>(d, x, mean, var);
  BatchNorm2dNormalize<T>(d, x, gamma, beta, mean, var, eps, y);
}

// Training backward (the statistics depend on x): with x̂ = (x - mean) / sqrt(var + eps),
// dbeta = Σ dy, dgamma = Σ dy·x̂, dx = gamma / sqrt(var + eps) · (dy - dbeta/M - x̂·dgamma/M)
// where M = N*H*W and the sums run over a channel.
template <typename T>
void BatchNorm2dBackward(const BatchNorm2dDims& d, std::span<const T> x, std::span<const T> gamma,
                         std::span<const T> mean, std::span<const T> var, std::span<const T> dy,
                         T eps, std::span<T> dx, std::span<T> dgamma, std::span<T> dbeta) {
  const T count = static_cast<T>(d.per_channel());
  for (int64_t c = 0; c < d.channels; ++c) {
    const T inv_std = T(1) / std::sqrt(var[c] + eps);
    T sum_dy = T(0), sum_dy_xhat = T(0);
    ForEachInChannel(d, c, [&](int64_t i) {
      sum_dy += dy[i];
      sum_dy_xhat += dy[i] * (x[i] - mean[c]) * inv_std;
    });
    dbeta[c] = sum_dy;
    dgamma[c] = sum_dy_xhat;
    ForEachInChannel(d, c, [&](int64_t i) {
      const T xhat = (x[i] - mean[c]) * inv_std;
      dx[i] = gamma[c] * inv_std * (dy[i] - sum_dy / count - xhat * sum_dy_xhat / count);
    });
  }
}

}  // namespace ald::ref
