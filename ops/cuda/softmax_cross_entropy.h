// softmax_cross_entropy on the GPU: log-softmax by cuDNN, the mean negative log-likelihood of
// int32 labels and the gradient by kernels.cu; fp32 logits [N, K], labels [N].
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "ops/cuda/cudnn_descriptors.h"
#include "ops/cuda/device_buffer.h"
#include "ops/cuda/handles.h"
#include "ops/softmax_cross_entropy.h"

namespace ald::cuda {

class SoftmaxCrossEntropyCuda {
 public:
  // Shapes checked by the CPU rule (SoftmaxCrossEntropyShape). `handles` must outlive the op.
  static absl::StatusOr<std::unique_ptr<SoftmaxCrossEntropyCuda>> Create(const CudaHandles& handles,
                                                                         const Shape& logits,
                                                                         const Shape& labels);

  int64_t rows() const { return rows_; }
  int64_t classes() const { return classes_; }

  // log_probs [N, K] = log_softmax(logits) (kept for Backward); loss[0] = the mean of
  // -log_probs[i, labels[i]]. Like the CPU kernel, rejects labels outside [0, K) naming the
  // first one; checking them waits for the stream (the host reads the loss every step anyway,
  // and a bad label must not turn into a silently wrong loss).
  absl::Status Forward(const float* logits, const int32_t* labels, float* log_probs, float* loss);
  // dlogits = (softmax - onehot(label)) · dloss / N, from Forward's log_probs. dloss is the
  // loss's gradient, 1 when the loss is the objective.
  absl::Status Backward(const float* log_probs, const int32_t* labels, float dloss,
                        float* dlogits) const;

 private:
  SoftmaxCrossEntropyCuda() = default;
  const CudaHandles* handles_ = nullptr;
  int64_t rows_ = 0, classes_ = 0;
  TensorDescriptor logits_desc_;
  DeviceBuffer<int32_t> first_bad_row_;  // written by the loss kernel, read by Forward
};

}  // namespace ald::cuda
