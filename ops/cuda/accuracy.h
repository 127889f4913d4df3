// accuracy on the GPU: how many rows of fp32 logits [N, K] have their first maximum at the
// int32 label [N]; an evaluation metric, forward only.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "ops/accuracy.h"
#include "ops/cuda/device_buffer.h"
#include "ops/cuda/handles.h"

namespace ald::cuda {

class AccuracyCuda {
 public:
  // Shapes checked by the CPU rule (AccuracyShape). `handles` must outlive the op.
  static absl::StatusOr<std::unique_ptr<AccuracyCuda>> Create(const CudaHandles& handles,
                                                              const Shape& logits,
                                                              const Shape& labels);

  // Counts on the device and returns the result to the host (waits for the stream). Labels
  // outside [0, K) are an error naming the first, as on the CPU.
  absl::StatusOr<AccuracyResult> Count(const float* logits, const int32_t* labels);

 private:
  AccuracyCuda() = default;
  const CudaHandles* handles_ = nullptr;
  int64_t rows_ = 0, classes_ = 0;
  DeviceBuffer<unsigned long long> correct_;
  DeviceBuffer<int32_t> first_bad_row_;
};

}  // namespace ald::cuda
