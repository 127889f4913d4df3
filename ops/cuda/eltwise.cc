// EltwiseCuda: cudnnActivationForward/Backward on the tensor seen as one flat row, or the
// function's own launches.
#include "ops/cuda/eltwise.h"

#include "absl/strings/str_cat.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {
namespace {
constexpr float kOne = 1.0f, kZero = 0.0f;
}  // namespace

absl::StatusOr<std::unique_ptr<EltwiseCuda>> EltwiseCuda::Create(
    const CudaHandles& handles, const eltwise::CudaFunction& function, const Shape& shape) {
  if (shape.num_elements() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(function.name, ": empty input ", shape.ToString()));
  }
  if (!function.cudnn && (function.forward == nullptr || function.backward == nullptr)) {
    return absl::InvalidArgumentError(
        absl::StrCat(function.name, ": registered with neither a cuDNN mode nor launches"));
  }
  std::unique_ptr<EltwiseCuda> op(new EltwiseCuda());
  op->handles_ = &handles;
  op->function_ = &function;
  op->shape_ = shape;
  if (function.cudnn) {
    // Element-wise: the layout does not matter, so any shape is one [1, 1, 1, n] row.
    ASSIGN_OR_RETURN(op->desc_, MakeTensorNchw(1, 1, 1, shape.num_elements()));
    ASSIGN_OR_RETURN(op->activation_, MakeActivation(function.cudnn_mode, function.cudnn_coef));
  }
  return op;
}

absl::Status EltwiseCuda::Forward(const float* x, float* y) const {
  if (!function_->cudnn) {
    return CudaStatus(function_->forward(x, y, shape_.num_elements(), handles_->stream()),
                      absl::StrCat(function_->name, " forward"));
  }
  RETURN_IF_CUDNN_ERROR(cudnnActivationForward(handles_->cudnn(), activation_.get(), &kOne,
                                               desc_.get(), x, &kZero, desc_.get(), y));
  return absl::OkStatus();
}

absl::Status EltwiseCuda::Backward(const float* saved, const float* dy, float* dx) const {
  if (!function_->cudnn) {
    return CudaStatus(function_->backward(saved, dy, dx, shape_.num_elements(), handles_->stream()),
                      absl::StrCat(function_->name, " backward"));
  }
  // The saved value stands in for both of cuDNN's x and y (see CudaFunction::cudnn).
  RETURN_IF_CUDNN_ERROR(cudnnActivationBackward(handles_->cudnn(), activation_.get(), &kOne,
                                                desc_.get(), saved, desc_.get(), dy, desc_.get(),
                                                saved, &kZero, desc_.get(), dx));
  return absl::OkStatus();
}

}  // namespace ald::cuda
