// LinearCuda: the three GEMMs of a fully connected layer, written for cuBLAS's column-major view.
//
// cuBLAS is column-major: a row-major [r, c] array is the column-major c×r matrix, its
// transpose. So every row-major product A·B = C is computed as Bᵀ·Aᵀ = Cᵀ on the same memory.
#include "ops/cuda/linear.h"

#include "absl/strings/str_cat.h"
#include "ops/cuda/bf16_kernels.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {
namespace {
constexpr float kOne = 1.0f, kZero = 0.0f;
}  // namespace

absl::StatusOr<std::unique_ptr<LinearCuda>> LinearCuda::Create(const CudaHandles& handles,
                                                               const Shape& input,
                                                               const Shape& weight,
                                                               const LinearAttrs& attrs,
                                                               DType dtype) {
  ASSIGN_OR_RETURN(LinearShapes shapes, InferLinear(input, weight));
  if (dtype != DType::kF32 && dtype != DType::kBF16) {
    return absl::InvalidArgumentError(absl::StrCat("linear: activations of type ",
                                                   DTypeName(dtype), ", expected f32 or bf16"));
  }
  std::unique_ptr<LinearCuda> op(new LinearCuda());
  op->handles_ = &handles;
  op->shapes_ = shapes;
  op->attrs_ = attrs;
  op->dtype_ = dtype;
  ASSIGN_OR_RETURN(op->batch_, ToCudnnInt(shapes.input[0], "linear batch"));
  ASSIGN_OR_RETURN(op->in_, ToCudnnInt(shapes.input[1], "linear in_features"));
  ASSIGN_OR_RETURN(op->out_, ToCudnnInt(shapes.weight[0], "linear out_features"));
  ASSIGN_OR_RETURN(op->y_desc_, MakeTensorNchw(op->batch_, op->out_, 1, 1));
  ASSIGN_OR_RETURN(op->bias_desc_, MakeTensorNchw(1, op->out_, 1, 1));
  return op;
}

absl::Status LinearCuda::Gemm(cublasOperation_t op_a, cublasOperation_t op_b, int m, int n, int k,
                              const void* a, int lda, const void* b, int ldb, void* c, int ldc,
                              bool c_is_f32) const {
  if (!bf16()) {
    RETURN_IF_CUBLAS_ERROR(cublasSgemm(handles_->cublas(), op_a, op_b, m, n, k, &kOne,
                                       static_cast<const float*>(a), lda,
                                       static_cast<const float*>(b), ldb, &kZero,
                                       static_cast<float*>(c), ldc));
    return absl::OkStatus();
  }
  RETURN_IF_CUBLAS_ERROR(cublasGemmEx(handles_->cublas(), op_a, op_b, m, n, k, &kOne, a,
                                      CUDA_R_16BF, lda, b, CUDA_R_16BF, ldb, &kZero, c,
                                      c_is_f32 ? CUDA_R_32F : CUDA_R_16BF, ldc,
                                      CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  return absl::OkStatus();
}

absl::Status LinearCuda::PrepareWeights(const float* w, BFloat16* w16) const {
  if (!bf16()) return absl::FailedPreconditionError("linear: PrepareWeights on an fp32 layer");
  RETURN_IF_CUDA_ERROR(
      kernels::CastToBf16(w, w16, shapes_.weight.num_elements(), handles_->stream()));
  return absl::OkStatus();
}

absl::Status LinearCuda::Forward(const void* x, const void* w, const float* b, void* y) const {
  // yᵀ [out×N] = (Wᵀ)ᵀ·xᵀ: W's memory is the column-major in×out matrix Wᵀ, so op T on it;
  // x's memory is xᵀ (in×N), op N.
  RETURN_IF_ERROR(Gemm(CUBLAS_OP_T, CUBLAS_OP_N, out_, batch_, in_, w, in_, x, in_, y, out_,
                       /*c_is_f32=*/!bf16()));
  if (!attrs_.bias) return absl::OkStatus();
  if (bf16()) {
    RETURN_IF_CUDA_ERROR(kernels::BiasReluBf16(static_cast<BFloat16*>(y), b, batch_, out_, 1,
                                               /*relu=*/false, handles_->stream()));
    return absl::OkStatus();
  }
  RETURN_IF_CUDNN_ERROR(
      cudnnAddTensor(handles_->cudnn(), &kOne, bias_desc_.get(), b, &kOne, y_desc_.get(), y));
  return absl::OkStatus();
}

absl::Status LinearCuda::BackwardData(const void* dy, const void* w, void* dx) const {
  // dxᵀ [in×N] = Wᵀ·dyᵀ: W's memory is Wᵀ (in×out, op N), dy's memory is dyᵀ (out×N, op N).
  return Gemm(CUBLAS_OP_N, CUBLAS_OP_N, in_, batch_, out_, w, in_, dy, out_, dx, in_,
              /*c_is_f32=*/!bf16());
}

absl::Status LinearCuda::BackwardWeights(const void* x, const void* dy, float* dw,
                                         float* db) const {
  // dWᵀ [in×out] = xᵀ·dy: x's memory is xᵀ (in×N, op N), dy's memory is dyᵀ (out×N, op T).
  // dW is fp32 for both types.
  RETURN_IF_ERROR(Gemm(CUBLAS_OP_N, CUBLAS_OP_T, in_, out_, batch_, x, in_, dy, out_, dw, in_,
                       /*c_is_f32=*/true));
  if (!attrs_.bias) return absl::OkStatus();
  if (bf16()) {
    RETURN_IF_CUDA_ERROR(kernels::BiasGradientBf16(static_cast<const BFloat16*>(dy), batch_,
                                                   out_, 1, db, handles_->stream()));
    return absl::OkStatus();
  }
  RETURN_IF_CUDNN_ERROR(cudnnConvolutionBackwardBias(handles_->cudnn(), &kOne, y_desc_.get(), dy,
                                                     &kZero, bias_desc_.get(), db));
  return absl::OkStatus();
}

}  // namespace ald::cuda
