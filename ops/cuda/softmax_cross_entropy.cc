// SoftmaxCrossEntropyCuda: cudnnSoftmaxForward(LOG) per row, then the loss and gradient kernels.
#include "ops/cuda/softmax_cross_entropy.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "ops/cuda/class_labels.h"
#include "ops/cuda/cuda_status.h"
#include "ops/cuda/kernels.h"

namespace ald::cuda {
namespace {
constexpr float kOne = 1.0f, kZero = 0.0f;
}  // namespace

absl::StatusOr<std::unique_ptr<SoftmaxCrossEntropyCuda>> SoftmaxCrossEntropyCuda::Create(
    const CudaHandles& handles, const Shape& logits, const Shape& labels) {
  RETURN_IF_ERROR(SoftmaxCrossEntropyShape(logits, DType::kF32, labels, DType::kI32).status());
  std::unique_ptr<SoftmaxCrossEntropyCuda> op(new SoftmaxCrossEntropyCuda());
  op->handles_ = &handles;
  op->rows_ = logits[0];
  op->classes_ = logits[1];
  // The loss kernel records bad rows as int.
  if (op->rows_ > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("softmax_cross_entropy: ", op->rows_, " rows exceed the GPU kernel's limit"));
  }
  // [N, K, 1, 1] with CUDNN_SOFTMAX_MODE_INSTANCE: one softmax over the K values of each row.
  ASSIGN_OR_RETURN(op->logits_desc_, MakeTensorNchw(op->rows_, op->classes_, 1, 1));
  ASSIGN_OR_RETURN(op->first_bad_row_, DeviceBuffer<int32_t>::Create(1));
  return op;
}

absl::Status SoftmaxCrossEntropyCuda::Forward(const float* logits, const int32_t* labels,
                                              float* log_probs, float* loss) {
  RETURN_IF_CUDNN_ERROR(cudnnSoftmaxForward(handles_->cudnn(), CUDNN_SOFTMAX_LOG,
                                            CUDNN_SOFTMAX_MODE_INSTANCE, &kOne, logits_desc_.get(),
                                            logits, &kZero, logits_desc_.get(), log_probs));
  int32_t* flag = first_bad_row_.data();
  RETURN_IF_CUDA_ERROR(kernels::CrossEntropyLoss(log_probs, labels, rows_, classes_, loss, flag,
                                                 handles_->stream()));
  return ReadLabelCheck("softmax_cross_entropy forward", flag, labels, classes_,
                        handles_->stream());
}

absl::Status SoftmaxCrossEntropyCuda::Backward(const float* log_probs, const int32_t* labels,
                                               float dloss, float* dlogits) const {
  const float scale = dloss / static_cast<float>(rows_);
  RETURN_IF_CUDA_ERROR(kernels::SoftmaxCrossEntropyBackward(log_probs, labels, rows_, classes_,
                                                            scale, dlogits, handles_->stream()));
  return absl::OkStatus();
}

}  // namespace ald::cuda
