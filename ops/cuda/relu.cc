// ReluCuda: cudnnActivationForward/Backward on the tensor seen as one flat row.
#include "ops/cuda/relu.h"

#include "absl/strings/str_cat.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {
namespace {
constexpr float kOne = 1.0f, kZero = 0.0f;
}  // namespace

absl::StatusOr<std::unique_ptr<ReluCuda>> ReluCuda::Create(const CudaHandles& handles,
                                                           const Shape& shape) {
  if (shape.num_elements() < 1) {
    return absl::InvalidArgumentError(absl::StrCat("relu: empty input ", shape.ToString()));
  }
  std::unique_ptr<ReluCuda> op(new ReluCuda());
  op->handles_ = &handles;
  op->shape_ = shape;
  // Elementwise: the layout does not matter, so any shape is one [1, 1, 1, n] row.
  ASSIGN_OR_RETURN(op->desc_, MakeTensorNchw(1, 1, 1, shape.num_elements()));
  ASSIGN_OR_RETURN(op->relu_desc_, MakeRelu());
  return op;
}

absl::Status ReluCuda::Forward(const float* x, float* y) const {
  RETURN_IF_CUDNN_ERROR(cudnnActivationForward(handles_->cudnn(), relu_desc_.get(), &kOne,
                                               desc_.get(), x, &kZero, desc_.get(), y));
  return absl::OkStatus();
}

absl::Status ReluCuda::Backward(const float* y, const float* dy, float* dx) const {
  // y > 0 exactly where x > 0, so y stands in for cuDNN's x argument.
  RETURN_IF_CUDNN_ERROR(cudnnActivationBackward(handles_->cudnn(), relu_desc_.get(), &kOne,
                                                desc_.get(), y, desc_.get(), dy, desc_.get(), y,
                                                &kZero, desc_.get(), dx));
  return absl::OkStatus();
}

}  // namespace ald::cuda
