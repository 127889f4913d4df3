// Reference softmax cross-entropy: plain loops, the ground truth for kernels. Rows are shifted
// by their maximum before exp, so large logits do not overflow.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

namespace ald::ref {

// log_probs[i, k] = logits[i, k] - log sum_j exp(logits[i, j]), rows of `classes` values.
template <typename T>
void LogSoftmax(int64_t classes, std::span<const T> logits, std::span<T> log_probs) {
  for (size_t row = 0; row < logits.size() / classes; ++row) {
    const T* in = logits.data() + row * classes;
    T* out = log_probs.data() + row * classes;
    const T max = *std::max_element(in, in + classes);
    T sum = 0;
    for (int64_t k = 0; k < classes; ++k) sum += std::exp(in[k] - max);
    const T log_sum = max + std::log(sum);
    for (int64_t k = 0; k < classes; ++k) out[k] = in[k] - log_sum;
  }
}

// The mean over rows of -log_probs[i, labels[i]].
template <typename T>
T CrossEntropyLoss(int64_t classes, std::span<const T> log_probs, std::span<const int32_t> labels) {
  T sum = 0;
  for (size_t row = 0; row < labels.size(); ++row) sum -= log_probs[row * classes + labels[row]];
  return sum / T(labels.size());
}

// dlogits = (softmax - onehot(label)) * dloss / N.
template <typename T>
void SoftmaxCrossEntropyBackward(int64_t classes, std::span<const T> log_probs,
                                 std::span<const int32_t> labels, T dloss, std::span<T> dlogits) {
  const T scale = dloss / T(labels.size());
  for (size_t row = 0; row < labels.size(); ++row) {
    for (int64_t k = 0; k < classes; ++k) {
      const size_t i = row * classes + k;
      dlogits[i] = (std::exp(log_probs[i]) - (k == labels[row] ? T(1) : T(0))) * scale;
    }
  }
}

}  // namespace ald::ref
