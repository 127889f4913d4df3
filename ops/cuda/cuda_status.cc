// Mapping of CUDA, cuDNN and cuBLAS status codes to absl::Status.
#include "ops/cuda/cuda_status.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace ald::cuda {
namespace {

absl::string_view FunctionName(absl::string_view call) {
  const size_t paren = call.find('(');
  absl::string_view name = paren == absl::string_view::npos ? call : call.substr(0, paren);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\n')) name.remove_suffix(1);
  // "::cudaMalloc" and "ald::cuda::Foo" keep only the last component.
  const size_t colon = name.rfind("::");
  return colon == absl::string_view::npos ? name : name.substr(colon + 2);
}

}  // namespace

absl::Status CudaStatus(cudaError_t error, absl::string_view call) {
  if (error == cudaSuccess) return absl::OkStatus();
  const std::string message = absl::StrCat(FunctionName(call), ": ", cudaGetErrorName(error), " (",
                                           cudaGetErrorString(error), ")");
  switch (error) {
    case cudaErrorMemoryAllocation:
      return absl::ResourceExhaustedError(message);
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
      return absl::UnavailableError(message);
    case cudaErrorInvalidValue:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status CudnnStatus(cudnnStatus_t status, absl::string_view call) {
  if (status == CUDNN_STATUS_SUCCESS) return absl::OkStatus();
  const std::string message = absl::StrCat(FunctionName(call), ": ", cudnnGetErrorString(status));
  switch (status) {
    case CUDNN_STATUS_BAD_PARAM:
      return absl::InvalidArgumentError(message);
    case CUDNN_STATUS_NOT_SUPPORTED:
      return absl::UnimplementedError(message);
    case CUDNN_STATUS_ALLOC_FAILED:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status CublasStatus(cublasStatus_t status, absl::string_view call) {
  if (status == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  const std::string message = absl::StrCat(FunctionName(call), ": ", cublasGetStatusName(status));
  switch (status) {
    case CUBLAS_STATUS_INVALID_VALUE:
      return absl::InvalidArgumentError(message);
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return absl::UnimplementedError(message);
    case CUBLAS_STATUS_ALLOC_FAILED:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status CudaDeviceAvailable() {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    // Not a sticky error, but clear it so that it does not surface in a later check.
    (void)cudaGetLastError();
    return absl::UnavailableError(
        absl::StrCat("no CUDA device: ", CudaStatus(error, "cudaGetDeviceCount").message()));
  }
  if (count == 0) {
    return absl::UnavailableError("no CUDA device: cudaGetDeviceCount found 0 devices");
  }
  return absl::OkStatus();
}

absl::Status LastKernelStatus(absl::string_view kernel) {
  return CudaStatus(cudaGetLastError(), kernel);
}

}  // namespace ald::cuda
