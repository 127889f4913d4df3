// Creation of the cuDNN/cuBLAS handle pair bound to one stream.
#include "ops/cuda/handles.h"

#include "ops/cuda/cuda_status.h"

namespace ald::cuda {

absl::StatusOr<std::unique_ptr<CudaHandles>> CudaHandles::Create(cudaStream_t stream) {
  std::unique_ptr<CudaHandles> handles(new CudaHandles());
  handles->stream_ = stream;
  RETURN_IF_CUDNN_ERROR(cudnnCreate(&handles->cudnn_));
  RETURN_IF_CUDNN_ERROR(cudnnSetStream(handles->cudnn_, stream));
  RETURN_IF_CUBLAS_ERROR(cublasCreate(&handles->cublas_));
  RETURN_IF_CUBLAS_ERROR(cublasSetStream(handles->cublas_, stream));
  RETURN_IF_CUBLAS_ERROR(cublasSetMathMode(handles->cublas_, CUBLAS_DEFAULT_MATH));
  // alpha/beta are host scalars in every call of this library.
  RETURN_IF_CUBLAS_ERROR(cublasSetPointerMode(handles->cublas_, CUBLAS_POINTER_MODE_HOST));
  return handles;
}

CudaHandles::~CudaHandles() {
  if (cublas_ != nullptr) (void)cublasDestroy(cublas_);
  if (cudnn_ != nullptr) (void)cudnnDestroy(cudnn_);
}

absl::Status CudaHandles::Synchronize() const {
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream_));
  return absl::OkStatus();
}

}  // namespace ald::cuda
