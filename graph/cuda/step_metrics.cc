// Loss and accuracy forwards without a host wait: cuDNN log-softmax and the kernels.cu launchers.
#include "graph/cuda/step_metrics.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "ops/accuracy.h"
#include "ops/cuda/cuda_status.h"
#include "ops/cuda/kernels.h"
#include "ops/softmax_cross_entropy.h"

namespace ald::cuda {
namespace {

constexpr float kOne = 1.0f, kZero = 0.0f;

// The kernels record bad rows as int32.
absl::Status CheckRows(const char* op, int64_t rows) {
  if (rows <= std::numeric_limits<int32_t>::max()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": ", rows, " rows exceed the GPU kernel's limit"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<LossForwardCuda>> LossForwardCuda::Create(
    const CudaHandles& handles, const Shape& logits, const Shape& labels) {
  RETURN_IF_ERROR(SoftmaxCrossEntropyShape(logits, DType::kF32, labels, DType::kI32).status());
  std::unique_ptr<LossForwardCuda> op(new LossForwardCuda());
  op->handles_ = &handles;
  op->rows_ = logits[0];
  op->classes_ = logits[1];
  RETURN_IF_ERROR(CheckRows("softmax_cross_entropy", op->rows_));
  // [N, K, 1, 1] with CUDNN_SOFTMAX_MODE_INSTANCE: one softmax over the K values of each row.
  ASSIGN_OR_RETURN(op->logits_desc_, MakeTensorNchw(op->rows_, op->classes_, 1, 1));
  return op;
}

absl::Status LossForwardCuda::Forward(const float* logits, const int32_t* labels,
                                      float* log_probs, float* loss, int32_t* bad_row) const {
  RETURN_IF_CUDNN_ERROR(cudnnSoftmaxForward(handles_->cudnn(), CUDNN_SOFTMAX_LOG,
                                            CUDNN_SOFTMAX_MODE_INSTANCE, &kOne, logits_desc_.get(),
                                            logits, &kZero, logits_desc_.get(), log_probs));
  RETURN_IF_CUDA_ERROR(kernels::CrossEntropyLoss(log_probs, labels, rows_, classes_, loss, bad_row,
                                                 handles_->stream()));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AccuracyCountCuda>> AccuracyCountCuda::Create(
    const CudaHandles& handles, const Shape& logits, const Shape& labels) {
  RETURN_IF_ERROR(AccuracyShape(logits, DType::kF32, labels, DType::kI32).status());
  std::unique_ptr<AccuracyCountCuda> op(new AccuracyCountCuda());
  op->handles_ = &handles;
  op->rows_ = logits[0];
  op->classes_ = logits[1];
  RETURN_IF_ERROR(CheckRows("accuracy", op->rows_));
  return op;
}

absl::Status AccuracyCountCuda::Count(const float* logits, const int32_t* labels,
                                      unsigned long long* correct, int32_t* bad_row) const {
  RETURN_IF_CUDA_ERROR(kernels::CountCorrect(logits, labels, rows_, classes_, correct, bad_row,
                                             handles_->stream()));
  return absl::OkStatus();
}

}  // namespace ald::cuda
