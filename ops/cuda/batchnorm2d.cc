// BatchNorm2dCuda: the legacy cuDNN batch-norm calls (still in cuDNN 9, marked deprecated) in
// spatial mode, plus cudnnActivation for the fused ReLU.
#include "ops/cuda/batchnorm2d.h"

#include "absl/strings/str_cat.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {
namespace {
constexpr float kOne = 1.0f, kZero = 0.0f;
}  // namespace

absl::StatusOr<std::unique_ptr<BatchNorm2dCuda>> BatchNorm2dCuda::Create(
    const CudaHandles& handles, const Shape& input, const BatchNorm2dAttrs& attrs) {
  ASSIGN_OR_RETURN(BatchNorm2dShapes shapes, InferBatchNorm2d(input, attrs));
  std::unique_ptr<BatchNorm2dCuda> op(new BatchNorm2dCuda());
  op->handles_ = &handles;
  op->shapes_ = shapes;
  op->attrs_ = attrs;
  const Shape& x = shapes.input;
  ASSIGN_OR_RETURN(op->data_desc_, MakeTensorNchw(x[0], x[1], x[2], x[3]));
  ASSIGN_OR_RETURN(op->channel_desc_, MakeTensorNchw(1, x[1], 1, 1));
  ASSIGN_OR_RETURN(op->relu_desc_, MakeRelu());
  return op;
}

absl::Status BatchNorm2dCuda::ForwardTraining(const float* x, const float* gamma, const float* beta,
                                              float* y, float* saved_mean, float* saved_inv_std,
                                              float* running_mean, float* running_var) const {
  RETURN_IF_ERROR(CheckBatchNorm2dTraining(shapes_.input));
  cudnnHandle_t h = handles_->cudnn();
  RETURN_IF_CUDNN_ERROR(cudnnBatchNormalizationForwardTraining(
      h, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, data_desc_.get(), x, data_desc_.get(), y,
      channel_desc_.get(), gamma, beta, /*exponentialAverageFactor=*/attrs_.momentum, running_mean,
      running_var, attrs_.eps, saved_mean, saved_inv_std));
  if (attrs_.fuse_relu) {
    RETURN_IF_CUDNN_ERROR(cudnnActivationForward(h, relu_desc_.get(), &kOne, data_desc_.get(), y,
                                                 &kZero, data_desc_.get(), y));
  }
  return absl::OkStatus();
}

absl::Status BatchNorm2dCuda::ForwardInference(const float* x, const float* gamma,
                                               const float* beta, const float* running_mean,
                                               const float* running_var, float* y) const {
  cudnnHandle_t h = handles_->cudnn();
  RETURN_IF_CUDNN_ERROR(cudnnBatchNormalizationForwardInference(
      h, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, data_desc_.get(), x, data_desc_.get(), y,
      channel_desc_.get(), gamma, beta, running_mean, running_var, attrs_.eps));
  if (attrs_.fuse_relu) {
    RETURN_IF_CUDNN_ERROR(cudnnActivationForward(h, relu_desc_.get(), &kOne, data_desc_.get(), y,
                                                 &kZero, data_desc_.get(), y));
  }
  return absl::OkStatus();
}

absl::Status BatchNorm2dCuda::FusedReluBackward(const float* y, const float* dy, float* dz) const {
  if (!attrs_.fuse_relu) {
    return absl::FailedPreconditionError(absl::StrCat(
        "batchnorm2d: FusedReluBackward without fuse_relu (input ", shapes_.input.ToString(), ")"));
  }
  // y > 0 exactly where the normalised value is > 0, so y stands in for cuDNN's x argument.
  RETURN_IF_CUDNN_ERROR(cudnnActivationBackward(handles_->cudnn(), relu_desc_.get(), &kOne,
                                                data_desc_.get(), y, data_desc_.get(), dy,
                                                data_desc_.get(), y, &kZero, data_desc_.get(), dz));
  return absl::OkStatus();
}

absl::Status BatchNorm2dCuda::Backward(const float* x, const float* gamma, const float* saved_mean,
                                       const float* saved_inv_std, const float* dy, float* dx,
                                       float* dgamma, float* dbeta) const {
  RETURN_IF_CUDNN_ERROR(cudnnBatchNormalizationBackward(
      handles_->cudnn(), CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, &kOne, &kZero, data_desc_.get(), x,
      data_desc_.get(), dy, data_desc_.get(), dx, channel_desc_.get(), gamma, dgamma, dbeta,
      attrs_.eps, saved_mean, saved_inv_std));
  return absl::OkStatus();
}

}  // namespace ald::cuda
