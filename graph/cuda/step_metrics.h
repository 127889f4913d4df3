// The loss and accuracy forwards of a CudaPlan. They run the kernels of ops/cuda's
// SoftmaxCrossEntropyCuda and AccuracyCuda, but leave the label check and the count on the
// device: those ops wait for the stream to read them, and a plan reads everything once per step.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "core/shape.h"
#include "ops/cuda/cudnn_descriptors.h"
#include "ops/cuda/handles.h"

namespace ald::cuda {

class LossForwardCuda {
 public:
  // Shapes checked by the CPU rule (SoftmaxCrossEntropyShape). `handles` must outlive the op.
  static absl::StatusOr<std::unique_ptr<LossForwardCuda>> Create(const CudaHandles& handles,
                                                                 const Shape& logits,
                                                                 const Shape& labels);
  int64_t classes() const { return classes_; }

  // log_probs = log_softmax(logits) (SoftmaxCrossEntropyCuda::Backward takes them); loss[0] = the
  // mean negative log-likelihood; bad_row[0] = the first row with a label outside [0, K), or -1.
  absl::Status Forward(const float* logits, const int32_t* labels, float* log_probs, float* loss,
                       int32_t* bad_row) const;

 private:
  LossForwardCuda() = default;
  const CudaHandles* handles_ = nullptr;
  int64_t rows_ = 0, classes_ = 0;
  TensorDescriptor logits_desc_;
};

class AccuracyCountCuda {
 public:
  // Shapes checked by the CPU rule (AccuracyShape). `handles` must outlive the op.
  static absl::StatusOr<std::unique_ptr<AccuracyCountCuda>> Create(const CudaHandles& handles,
                                                                   const Shape& logits,
                                                                   const Shape& labels);
  // correct[0] = rows whose first maximum is at the label; bad_row as LossForwardCuda's.
  absl::Status Count(const float* logits, const int32_t* labels, unsigned long long* correct,
                     int32_t* bad_row) const;

 private:
  AccuracyCountCuda() = default;
  const CudaHandles* handles_ = nullptr;
  int64_t rows_ = 0, classes_ = 0;
};

}  // namespace ald::cuda
