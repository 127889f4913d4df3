// Reference SGD: a literal transcription of torch.optim.SGD's step with dampening 0, including
// its first step, on which the momentum buffer does not exist yet and becomes a copy of the
// gradient.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace ald::ref {

// `buffer` empty stands for PyTorch's `momentum_buffer is None`; the step fills it.
template <typename T>
void SgdStep(T lr, T momentum, bool nesterov, T weight_decay, std::span<T> x,
             std::span<const T> grad, std::vector<T>& buffer) {
  std::vector<T> d(grad.begin(), grad.end());
  if (weight_decay != T(0)) {
    for (size_t i = 0; i < d.size(); ++i) d[i] += weight_decay * x[i];
  }
  if (momentum != T(0)) {
    if (buffer.empty()) {
      buffer = d;
    } else {
      for (size_t i = 0; i < d.size(); ++i) buffer[i] = momentum * buffer[i] + d[i];
    }
    if (nesterov) {
      for (size_t i = 0; i < d.size(); ++i) d[i] += momentum * buffer[i];
    } else {
      d = buffer;
    }
  }
  for (size_t i = 0; i < x.size(); ++i) x[i] -= lr * d[i];
}

}  // namespace ald::ref
