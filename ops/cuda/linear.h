// Linear on cuBLAS: y = x·Wᵀ + b with PyTorch's weight layout W [out, in], and its gradients
// dx = dy·W, dW = dyᵀ·x, db = Σ_batch dy, on row-major device pointers. Activations and their
// gradients are fp32, or bf16 for --precision=bf16: then the products run on the tensor cores
// with fp32 accumulation and read a bf16 copy of W (PrepareWeights, once per step), while b, dW
// and db stay fp32 (cuBLAS writes dW in fp32 directly).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/bfloat16.h"
#include "core/dtype.h"
#include "ops/cuda/cudnn_descriptors.h"
#include "ops/cuda/handles.h"
#include "ops/linear.h"

namespace ald::cuda {

class LinearCuda {
 public:
  // Validates the shapes with the CPU rule (InferLinear). `handles` must outlive the op.
  // `dtype` is the activations' type, kF32 or kBF16.
  static absl::StatusOr<std::unique_ptr<LinearCuda>> Create(const CudaHandles& handles,
                                                            const Shape& input, const Shape& weight,
                                                            const LinearAttrs& attrs,
                                                            DType dtype = DType::kF32);

  const LinearShapes& shapes() const { return shapes_; }
  const LinearAttrs& attrs() const { return attrs_; }
  DType dtype() const { return dtype_; }

  // bf16 only: w16 = BFloat16(w), the copy that Forward and BackwardData read.
  absl::Status PrepareWeights(const float* w, BFloat16* w16) const;

  // x, y, dy and dx hold dtype() elements; `w` is fp32, or with bf16 the PrepareWeights copy.
  // `b` is not read without bias.
  absl::Status Forward(const void* x, const void* w, const float* b, void* y) const;
  absl::Status BackwardData(const void* dy, const void* w, void* dx) const;
  // dW, and db with bias (otherwise `db` is not written and may be null).
  absl::Status BackwardWeights(const void* x, const void* dy, float* dw, float* db) const;

 private:
  LinearCuda() = default;
  bool bf16() const { return dtype_ == DType::kBF16; }
  // C = op(A)·op(B) on column-major views, A and B of the activations' type, C of `c_type`,
  // accumulated in fp32 (cublasSgemm for fp32, cublasGemmEx on the tensor cores for bf16).
  absl::Status Gemm(cublasOperation_t op_a, cublasOperation_t op_b, int m, int n, int k,
                    const void* a, int lda, const void* b, int ldb, void* c, int ldc,
                    bool c_is_f32) const;

  const CudaHandles* handles_ = nullptr;
  LinearShapes shapes_;
  LinearAttrs attrs_;
  DType dtype_ = DType::kF32;
  int batch_ = 0, in_ = 0, out_ = 0;
  // y and dy seen as [N, out, 1, 1] and b as [1, out, 1, 1], for cuDNN's broadcasting bias add
  // and bias reduction (cuBLAS has neither without a ones vector).
  TensorDescriptor y_desc_, bias_desc_;
};

}  // namespace ald::cuda
