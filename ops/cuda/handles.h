// CudaHandles: one cuDNN handle and one cuBLAS handle bound to one cudaStream_t, so that every op
// built on them enqueues in that stream's order.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "cublas_v2.h"
#include "cuda_runtime_api.h"
#include "cudnn.h"

namespace ald::cuda {

class CudaHandles {
 public:
  // `stream` is not owned; nullptr is the legacy default stream. cuBLAS is put in
  // CUBLAS_DEFAULT_MATH (no TF32 tensor cores) so that its fp32 GEMMs are fp32 and agree with
  // the CPU kernels and the reference to ~1e-5: TF32 keeps 10 mantissa bits and would not.
  static absl::StatusOr<std::unique_ptr<CudaHandles>> Create(cudaStream_t stream = nullptr);
  ~CudaHandles();
  CudaHandles(const CudaHandles&) = delete;
  CudaHandles& operator=(const CudaHandles&) = delete;

  cudnnHandle_t cudnn() const { return cudnn_; }
  cublasHandle_t cublas() const { return cublas_; }
  cudaStream_t stream() const { return stream_; }

  // Waits for everything enqueued on the stream.
  absl::Status Synchronize() const;

 private:
  CudaHandles() = default;
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

}  // namespace ald::cuda
