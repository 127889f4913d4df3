// The weighted sum's checks and launch, and the cuBLAS axpy/scale.
#include "ops/cuda/mixing.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "ops/cuda/cuda_status.h"
#include "ops/cuda/kernels.h"

namespace ald::cuda {
namespace {

// Same buffer, or no shared element.
bool SameOrDisjoint(const float* a, const float* b, int64_t n) {
  if (a == b || n == 0) return true;
  return !(std::less<const float*>()(a, b + n) && std::less<const float*>()(b, a + n));
}

}  // namespace

absl::Status WeightedSum(std::span<const float> weights, std::span<const float* const> inputs,
                         int64_t n, float* out, cudaStream_t stream) {
  if (weights.size() != inputs.size() || inputs.empty() ||
      inputs.size() > static_cast<size_t>(kernels::kMaxWeightedSumInputs)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weighted sum: got ", weights.size(), " weights and ", inputs.size(),
        " inputs, expected the same number in [1, ", kernels::kMaxWeightedSumInputs, "]"));
  }
  if (n < 0) return absl::InvalidArgumentError(absl::StrCat("weighted sum: length ", n));
  for (size_t j = 0; j < inputs.size(); ++j) {
    if (!SameOrDisjoint(inputs[j], out, n)) {
      return absl::InvalidArgumentError(
          absl::StrCat("weighted sum: input ", j, " partly overlaps out"));
    }
  }
  RETURN_IF_CUDA_ERROR(kernels::WeightedSum(static_cast<int>(inputs.size()), weights.data(),
                                            inputs.data(), n, out, stream));
  return absl::OkStatus();
}

absl::Status Axpy(const CudaHandles& handles, int64_t n, float a, const float* x, float* y) {
  if (n < 0) return absl::InvalidArgumentError(absl::StrCat("axpy: length ", n));
  if (x != y && !SameOrDisjoint(x, y, n)) {
    return absl::InvalidArgumentError("axpy: x partly overlaps y");
  }
  // The _64 entry points take 64-bit lengths: a whole model's parameters can pass 2^31 floats.
  RETURN_IF_CUBLAS_ERROR(cublasSaxpy_64(handles.cublas(), n, &a, x, 1, y, 1));
  return absl::OkStatus();
}

absl::Status Scale(const CudaHandles& handles, int64_t n, float a, float* x) {
  if (n < 0) return absl::InvalidArgumentError(absl::StrCat("scale: length ", n));
  RETURN_IF_CUBLAS_ERROR(cublasSscal_64(handles.cublas(), n, &a, x, 1));
  return absl::OkStatus();
}

}  // namespace ald::cuda
