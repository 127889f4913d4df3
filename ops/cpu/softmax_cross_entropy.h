// softmax_cross_entropy on the CPU: oneDNN's softmax_v2 with the log algorithm gives stable
// log-probabilities (kept as an output for the backward); the gather of each row's label and
// the batch mean are hand-written (a strided gather has no oneDNN primitive).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace ald::cpu {

class SoftmaxCrossEntropyCpu {
 public:
  // Builds the primitive once for f32 logits of shape [N, K].
  static absl::StatusOr<std::unique_ptr<SoftmaxCrossEntropyCpu>> Create(const Shape& logits);

  // log_probs [N, K] = log softmax(logits); loss (f32 scalar) = mean_i -log_probs[i, labels[i]].
  // Labels outside [0, K) are an error, found before anything is computed.
  absl::Status Forward(const Tensor& logits, const Tensor& labels, Tensor& log_probs, Tensor& loss);
  // dlogits = (exp(log_probs) - onehot(labels)) * dloss / N; dloss is the f32 scalar gradient
  // of the loss. Hand-written: one pass, where oneDNN's log-softmax backward would need the
  // one-hot gradient materialised first.
  absl::Status Backward(const Tensor& log_probs, const Tensor& labels, const Tensor& dloss,
                        Tensor& dlogits);

 private:
  absl::Status CheckLabels(const std::string& what, const Tensor& labels) const;

  Shape logits_shape_;
  dnnl::memory::desc desc_;
  dnnl::softmax_v2_forward log_softmax_;
};

}  // namespace ald::cpu
