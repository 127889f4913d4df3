// Read-back of the label check flag written by the loss and accuracy kernels.
#include "ops/cuda/class_labels.h"

#include "absl/strings/str_cat.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {

absl::Status ReadLabelCheck(const std::string& op, const int32_t* first_bad_row,
                            const int32_t* labels, int64_t classes, cudaStream_t stream) {
  int32_t bad_row = -1;
  RETURN_IF_CUDA_ERROR(
      cudaMemcpyAsync(&bad_row, first_bad_row, sizeof(bad_row), cudaMemcpyDeviceToHost, stream));
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream));
  if (bad_row < 0) return absl::OkStatus();
  return LabelOutOfRange(op, bad_row, labels, classes, stream);
}

absl::Status LabelOutOfRange(const std::string& op, int32_t bad_row, const int32_t* labels,
                             int64_t classes, cudaStream_t stream) {
  int32_t value = 0;
  RETURN_IF_CUDA_ERROR(
      cudaMemcpyAsync(&value, labels + bad_row, sizeof(value), cudaMemcpyDeviceToHost, stream));
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream));
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": labels[", bad_row, "] = ", value, " is outside [0, ", classes, ")"));
}

}  // namespace ald::cuda
