// DropoutCuda: the Philox stream parameters of a key (the same words core/rng.cc builds) and
// the mask kernels.
#include "ops/cuda/dropout.h"

#include "core/rng.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {

absl::StatusOr<std::unique_ptr<DropoutCuda>> DropoutCuda::Create(const CudaHandles& handles,
                                                                 const Shape& shape,
                                                                 const DropoutAttrs& attrs) {
  ASSIGN_OR_RETURN(Shape checked, DropoutShape(shape, attrs));
  std::unique_ptr<DropoutCuda> op(new DropoutCuda());
  op->handles_ = &handles;
  op->shape_ = checked;
  op->attrs_ = attrs;
  // The same float expression as the CPU kernel, so kept values are scaled identically.
  op->scale_ = 1.0f / (1.0f - attrs.p);
  return op;
}

kernels::DropoutStream DropoutCuda::StreamOf(const DropoutKey& key) const {
  // Rng(seed, worker, step, kDropout) then Seek(layer · 2^40): see core/rng.cc and
  // DropoutKeepStream in ops/dropout.h.
  return kernels::DropoutStream{static_cast<uint32_t>(key.seed),
                                static_cast<uint32_t>(key.seed >> 32),
                                static_cast<uint32_t>(RngStream::kDropout) << 24,
                                key.worker,
                                key.step,
                                attrs_.layer * DropoutKeepStream::kLayerStride,
                                attrs_.p};
}

absl::Status DropoutCuda::Forward(const float* x, const DropoutKey& key, float* y) const {
  RETURN_IF_CUDA_ERROR(kernels::DropoutApply(StreamOf(key), scale_, x, y, shape_.num_elements(),
                                             handles_->stream()));
  return absl::OkStatus();
}

absl::Status DropoutCuda::ForwardInference(const float* x, float* y) const {
  if (x == y) return absl::OkStatus();
  RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(y, x,
                                       static_cast<size_t>(shape_.num_elements()) * sizeof(float),
                                       cudaMemcpyDeviceToDevice, handles_->stream()));
  return absl::OkStatus();
}

absl::Status DropoutCuda::Backward(const float* dy, const DropoutKey& key, float* dx) const {
  return Forward(dy, key, dx);
}

absl::Status DropoutCuda::KeepMask(const DropoutKey& key, uint8_t* keep) const {
  RETURN_IF_CUDA_ERROR(
      kernels::DropoutMask(StreamOf(key), keep, shape_.num_elements(), handles_->stream()));
  return absl::OkStatus();
}

}  // namespace ald::cuda
