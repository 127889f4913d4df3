// Linear on cuBLAS: y = x·Wᵀ + b with PyTorch's weight layout W [out, in], and its gradients
// dx = dy·W, dW = dyᵀ·x, db = Σ_batch dy, on fp32 row-major device pointers.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "ops/cuda/cudnn_descriptors.h"
#include "ops/cuda/handles.h"
#include "ops/linear.h"

namespace ald::cuda {

class LinearCuda {
 public:
  // Validates the shapes with the CPU rule (InferLinear). `handles` must outlive the op.
  static absl::StatusOr<std::unique_ptr<LinearCuda>> Create(const CudaHandles& handles,
                                                            const Shape& input, const Shape& weight,
                                                            const LinearAttrs& attrs);

  const LinearShapes& shapes() const { return shapes_; }
  const LinearAttrs& attrs() const { return attrs_; }

  // `b` is not read without bias.
  absl::Status Forward(const float* x, const float* w, const float* b, float* y) const;
  absl::Status BackwardData(const float* dy, const float* w, float* dx) const;
  // dW, and db with bias (otherwise `db` is not written and may be null).
  absl::Status BackwardWeights(const float* x, const float* dy, float* dw, float* db) const;

 private:
  LinearCuda() = default;

  const CudaHandles* handles_ = nullptr;
  LinearShapes shapes_;
  LinearAttrs attrs_;
  int batch_ = 0, in_ = 0, out_ = 0;
  // y and dy seen as [N, out, 1, 1] and b as [1, out, 1, 1], for cuDNN's broadcasting bias add
  // and bias reduction (cuBLAS has neither without a ones vector).
  TensorDescriptor y_desc_, bias_desc_;
};

}  // namespace ald::cuda
