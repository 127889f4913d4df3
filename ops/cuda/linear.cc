// LinearCuda: the three GEMMs of a fully connected layer, written for cuBLAS's column-major view.
//
// cuBLAS is column-major: a row-major [r, c] array is the column-major c×r matrix, its
// transpose. So every row-major product A·B = C is computed as Bᵀ·Aᵀ = Cᵀ on the same memory.
#include "ops/cuda/linear.h"

#include "absl/strings/str_cat.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {
namespace {
constexpr float kOne = 1.0f, kZero = 0.0f;
}  // namespace

absl::StatusOr<std::unique_ptr<LinearCuda>> LinearCuda::Create(const CudaHandles& handles,
                                                               const Shape& input,
                                                               const Shape& weight,
                                                               const LinearAttrs& attrs) {
  ASSIGN_OR_RETURN(LinearShapes shapes, InferLinear(input, weight));
  std::unique_ptr<LinearCuda> op(new LinearCuda());
  op->handles_ = &handles;
  op->shapes_ = shapes;
  op->attrs_ = attrs;
  ASSIGN_OR_RETURN(op->batch_, ToCudnnInt(shapes.input[0], "linear batch"));
  ASSIGN_OR_RETURN(op->in_, ToCudnnInt(shapes.input[1], "linear in_features"));
  ASSIGN_OR_RETURN(op->out_, ToCudnnInt(shapes.weight[0], "linear out_features"));
  ASSIGN_OR_RETURN(op->y_desc_, MakeTensorNchw(op->batch_, op->out_, 1, 1));
  ASSIGN_OR_RETURN(op->bias_desc_, MakeTensorNchw(1, op->out_, 1, 1));
  return op;
}

absl::Status LinearCuda::Forward(const float* x, const float* w, const float* b, float* y) const {
  // yᵀ [out×N] = (Wᵀ)ᵀ·xᵀ: W's memory is the column-major in×out matrix Wᵀ, so op T on it;
  // x's memory is xᵀ (in×N), op N.
  RETURN_IF_CUBLAS_ERROR(cublasSgemm(handles_->cublas(), CUBLAS_OP_T, CUBLAS_OP_N, out_, batch_,
                                     in_, &kOne, w, in_, x, in_, &kZero, y, out_));
  if (attrs_.bias) {
    RETURN_IF_CUDNN_ERROR(
        cudnnAddTensor(handles_->cudnn(), &kOne, bias_desc_.get(), b, &kOne, y_desc_.get(), y));
  }
  return absl::OkStatus();
}

absl::Status LinearCuda::BackwardData(const float* dy, const float* w, float* dx) const {
  // dxᵀ [in×N] = Wᵀ·dyᵀ: W's memory is Wᵀ (in×out, op N), dy's memory is dyᵀ (out×N, op N).
  RETURN_IF_CUBLAS_ERROR(cublasSgemm(handles_->cublas(), CUBLAS_OP_N, CUBLAS_OP_N, in_, batch_,
                                     out_, &kOne, w, in_, dy, out_, &kZero, dx, in_));
  return absl::OkStatus();
}

absl::Status LinearCuda::BackwardWeights(const float* x, const float* dy, float* dw,
                                         float* db) const {
  // dWᵀ [in×out] = xᵀ·dy: x's memory is xᵀ (in×N, op N), dy's memory is dyᵀ (out×N, op T).
  RETURN_IF_CUBLAS_ERROR(cublasSgemm(handles_->cublas(), CUBLAS_OP_N, CUBLAS_OP_T, in_, out_,
                                     batch_, &kOne, x, in_, dy, out_, &kZero, dw, in_));
  if (attrs_.bias) {
    RETURN_IF_CUDNN_ERROR(cudnnConvolutionBackwardBias(handles_->cudnn(), &kOne, y_desc_.get(), dy,
                                                       &kZero, bias_desc_.get(), db));
  }
  return absl::OkStatus();
}

}  // namespace ald::cuda
