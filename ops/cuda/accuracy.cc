// AccuracyCuda: the argmax-count kernel and the read-back of its count.
#include "ops/cuda/accuracy.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "ops/cuda/class_labels.h"
#include "ops/cuda/cuda_status.h"
#include "ops/cuda/kernels.h"

namespace ald::cuda {

absl::StatusOr<std::unique_ptr<AccuracyCuda>> AccuracyCuda::Create(const CudaHandles& handles,
                                                                   const Shape& logits,
                                                                   const Shape& labels) {
  RETURN_IF_ERROR(AccuracyShape(logits, DType::kF32, labels, DType::kI32).status());
  std::unique_ptr<AccuracyCuda> op(new AccuracyCuda());
  op->handles_ = &handles;
  op->rows_ = logits[0];
  op->classes_ = logits[1];
  if (op->rows_ > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("accuracy: ", op->rows_, " rows exceed the GPU kernel's limit"));
  }
  ASSIGN_OR_RETURN(op->correct_, DeviceBuffer<unsigned long long>::Create(1));
  ASSIGN_OR_RETURN(op->first_bad_row_, DeviceBuffer<int32_t>::Create(1));
  return op;
}

absl::StatusOr<AccuracyResult> AccuracyCuda::Count(const float* logits, const int32_t* labels) {
  unsigned long long* correct = correct_.data();
  int32_t* flag = first_bad_row_.data();
  RETURN_IF_CUDA_ERROR(
      kernels::CountCorrect(logits, labels, rows_, classes_, correct, flag, handles_->stream()));
  RETURN_IF_ERROR(ReadLabelCheck("accuracy forward", flag, labels, classes_, handles_->stream()));
  unsigned long long count = 0;
  RETURN_IF_CUDA_ERROR(
      cudaMemcpyAsync(&count, correct, sizeof(count), cudaMemcpyDeviceToHost, handles_->stream()));
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(handles_->stream()));
  return AccuracyResult{static_cast<int64_t>(count), rows_};
}

}  // namespace ald::cuda
