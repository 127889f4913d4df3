// Conv2d on cuDNN: forward (+ bias, + fused ReLU), backward-data and backward-weights (+ bias
// gradient) on NCHW/OIHW device pointers, with descriptors, algorithms and workspace sizes chosen
// once in Create. Activations and their gradients are fp32, or bf16 for --precision=bf16: then
// the passes run on the tensor cores with fp32 accumulation, read a bf16 copy of the weights
// (PrepareWeights, once per step), and still take the fp32 bias and write fp32 weight and bias
// gradients, as PyTorch's autocast does.
#pragma once

#include <cstddef>
#include <memory>

#include "absl/status/statusor.h"
#include "core/bfloat16.h"
#include "core/dtype.h"
#include "ops/conv2d.h"
#include "ops/cuda/cudnn_descriptors.h"
#include "ops/cuda/handles.h"

namespace ald::cuda {

class Conv2dCuda {
 public:
  // Validates the shapes with the CPU rule (InferConv2d, so errors read the same on both
  // backends) and picks each pass's algorithm with cuDNN's heuristics
  // (cudnnGetConvolution*Algorithm_v7), taking the best deterministic one that runs in plain
  // fp32 FMA math (bf16: any math, the tensor cores included).
  // `handles` must outlive the op; every call enqueues on handles.stream(). `dtype` is the
  // activations' type, kF32 or kBF16.
  static absl::StatusOr<std::unique_ptr<Conv2dCuda>> Create(const CudaHandles& handles,
                                                            const Shape& input, const Shape& weight,
                                                            const Conv2dAttrs& attrs,
                                                            DType dtype = DType::kF32);

  const Conv2dShapes& shapes() const { return shapes_; }
  const Conv2dAttrs& attrs() const { return attrs_; }
  DType dtype() const { return dtype_; }
  cudnnConvolutionFwdAlgo_t forward_algorithm() const { return forward_algo_; }
  cudnnConvolutionBwdDataAlgo_t backward_data_algorithm() const { return data_algo_; }
  cudnnConvolutionBwdFilterAlgo_t backward_weights_algorithm() const { return filter_algo_; }
  // The scratch each pass needs, and the largest of them: one arena slot of workspace_bytes()
  // serves all three passes since they never run concurrently on one stream. With bf16,
  // backward-weights' scratch also holds its bf16 weight gradient before the cast to fp32.
  size_t forward_workspace_bytes() const { return forward_bytes_; }
  size_t backward_data_workspace_bytes() const { return data_bytes_; }
  size_t backward_weights_workspace_bytes() const { return filter_bytes_; }
  size_t workspace_bytes() const;

  // bf16 only: w16 = BFloat16(w), the copy that Forward and BackwardData read.
  absl::Status PrepareWeights(const float* w, BFloat16* w16) const;

  // Activation pointers (x, y, dy, dx, dz) hold dtype() elements; `w` is fp32, or with bf16 the
  // PrepareWeights copy. `b`, `dw` and `db` are fp32.
  // y = conv(x, w) + b, then relu when attrs().fuse_relu. `b` is not read without bias.
  // `workspace` holds at least forward_workspace_bytes() (may be null when that is 0).
  absl::Status Forward(const void* x, const void* w, const float* b, void* y, void* workspace,
                       size_t workspace_bytes) const;
  // Only with fuse_relu: dz = dy where y > 0, else 0: the gradient w.r.t. the convolution's
  // output, which both backward passes take. dz may be dy.
  absl::Status FusedReluBackward(const void* y, const void* dy, void* dz) const;
  // dx = conv_transpose(dy, w).
  absl::Status BackwardData(const void* dy, const void* w, void* dx, void* workspace,
                            size_t workspace_bytes) const;
  // dw, and db with bias (otherwise `db` is not written and may be null).
  absl::Status BackwardWeights(const void* x, const void* dy, float* dw, float* db,
                               void* workspace, size_t workspace_bytes) const;

 private:
  Conv2dCuda() = default;
  bool bf16() const { return dtype_ == DType::kBF16; }
  absl::Status ChooseAlgorithms();
  // bf16: where backward-weights' bf16 gradient sits in the workspace (after cuDNN's scratch),
  // and the workspace bytes that pass needs up to its end.
  size_t weight_gradient_offset() const;
  size_t bf16_backward_weights_bytes() const;
  absl::Status CheckWorkspace(const char* pass, size_t needed, const void* workspace,
                              size_t given) const;

  const CudaHandles* handles_ = nullptr;
  Conv2dShapes shapes_;
  Conv2dAttrs attrs_;
  DType dtype_ = DType::kF32;
  TensorDescriptor x_desc_, y_desc_, bias_desc_;
  FilterDescriptor w_desc_;
  ConvolutionDescriptor conv_desc_;
  ActivationDescriptor relu_desc_;
  cudnnConvolutionFwdAlgo_t forward_algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  cudnnConvolutionBwdDataAlgo_t data_algo_ = CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
  cudnnConvolutionBwdFilterAlgo_t filter_algo_ = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0;
  size_t forward_bytes_ = 0, data_bytes_ = 0, filter_bytes_ = 0;
};

}  // namespace ald::cuda
