// CUDA runtime, cuDNN and cuBLAS return codes as absl::Status naming the failed call
// ("cudnnConvolutionForward: CUDNN_STATUS_BAD_PARAM"), and the check that a CUDA device exists.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/status.h"
#include "cublas_v2.h"
#include "cuda_runtime_api.h"
#include "cudnn.h"

namespace ald::cuda {

// `call` may be the whole call expression (as the macros below pass it); the message keeps only
// the function name, so that it stays short and stable however the arguments are spelled.
absl::Status CudaStatus(cudaError_t error, absl::string_view call);
absl::Status CudnnStatus(cudnnStatus_t status, absl::string_view call);
absl::Status CublasStatus(cublasStatus_t status, absl::string_view call);

// OK when at least one CUDA device is usable; otherwise Unavailable with the runtime's reason,
// e.g. "no CUDA device: cudaGetDeviceCount: cudaErrorNoDevice (no CUDA-capable device is
// detected)". GPU tests skip with this message on machines without a GPU or driver.
absl::Status CudaDeviceAvailable();

// The launch status of the last kernel (cudaGetLastError), named after `kernel`.
absl::Status LastKernelStatus(absl::string_view kernel);

}  // namespace ald::cuda

#define RETURN_IF_CUDA_ERROR(call) RETURN_IF_ERROR(::ald::cuda::CudaStatus((call), #call))
#define RETURN_IF_CUDNN_ERROR(call) RETURN_IF_ERROR(::ald::cuda::CudnnStatus((call), #call))
#define RETURN_IF_CUBLAS_ERROR(call) RETURN_IF_ERROR(::ald::cuda::CublasStatus((call), #call))
