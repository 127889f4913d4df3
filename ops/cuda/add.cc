// AddCuda: cudnnOpTensor(ADD), then cudnnActivation for the fused ReLU.
#include "ops/cuda/add.h"

#include "ops/cuda/cuda_status.h"

namespace ald::cuda {
namespace {
constexpr float kOne = 1.0f, kZero = 0.0f;
}  // namespace

absl::StatusOr<std::unique_ptr<AddCuda>> AddCuda::Create(const CudaHandles& handles, const Shape& a,
                                                         const Shape& b, const AddAttrs& attrs) {
  ASSIGN_OR_RETURN(Shape shape, AddShape(a, b));
  std::unique_ptr<AddCuda> op(new AddCuda());
  op->handles_ = &handles;
  op->shape_ = shape;
  op->attrs_ = attrs;
  ASSIGN_OR_RETURN(op->desc_, MakeTensorNchw(1, 1, 1, shape.num_elements()));
  cudnnOpTensorDescriptor_t raw = nullptr;
  RETURN_IF_CUDNN_ERROR(cudnnCreateOpTensorDescriptor(&raw));
  op->add_desc_ = decltype(op->add_desc_)(raw);
  RETURN_IF_CUDNN_ERROR(
      cudnnSetOpTensorDescriptor(raw, CUDNN_OP_TENSOR_ADD, CUDNN_DATA_FLOAT, CUDNN_PROPAGATE_NAN));
  ASSIGN_OR_RETURN(op->relu_desc_, MakeRelu());
  return op;
}

absl::Status AddCuda::Forward(const float* a, const float* b, float* y) const {
  cudnnHandle_t h = handles_->cudnn();
  RETURN_IF_CUDNN_ERROR(cudnnOpTensor(h, add_desc_.get(), &kOne, desc_.get(), a, &kOne, desc_.get(),
                                      b, &kZero, desc_.get(), y));
  if (attrs_.fuse_relu) {
    RETURN_IF_CUDNN_ERROR(
        cudnnActivationForward(h, relu_desc_.get(), &kOne, desc_.get(), y, &kZero, desc_.get(), y));
  }
  return absl::OkStatus();
}

absl::Status AddCuda::Backward(const float* y, const float* dy, float* dx) const {
  if (attrs_.fuse_relu) {
    RETURN_IF_CUDNN_ERROR(cudnnActivationBackward(handles_->cudnn(), relu_desc_.get(), &kOne,
                                                  desc_.get(), y, desc_.get(), dy, desc_.get(), y,
                                                  &kZero, desc_.get(), dx));
    return absl::OkStatus();
  }
  if (dx == dy) return absl::OkStatus();
  RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(dx, dy, shape_.num_elements() * sizeof(float),
                                       cudaMemcpyDeviceToDevice, handles_->stream()));
  return absl::OkStatus();
}

}  // namespace ald::cuda
