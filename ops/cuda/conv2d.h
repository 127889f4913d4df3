// Conv2d on cuDNN: forward (+ bias, + fused ReLU), backward-data and backward-weights (+ bias
// gradient) on fp32 NCHW/OIHW device pointers, with descriptors, algorithms and workspace sizes
// chosen once in Create.
#pragma once

#include <cstddef>
#include <memory>

#include "absl/status/statusor.h"
#include "ops/conv2d.h"
#include "ops/cuda/cudnn_descriptors.h"
#include "ops/cuda/handles.h"

namespace ald::cuda {

class Conv2dCuda {
 public:
  // Validates the shapes with the CPU rule (InferConv2d, so errors read the same on both
  // backends) and picks each pass's algorithm with cuDNN's heuristics
  // (cudnnGetConvolution*Algorithm_v7), taking the best deterministic one that runs in plain
  // fp32 FMA math.
  // `handles` must outlive the op; every call enqueues on handles.stream().
  static absl::StatusOr<std::unique_ptr<Conv2dCuda>> Create(const CudaHandles& handles,
                                                            const Shape& input, const Shape& weight,
                                                            const Conv2dAttrs& attrs);

  const Conv2dShapes& shapes() const { return shapes_; }
  const Conv2dAttrs& attrs() const { return attrs_; }
  cudnnConvolutionFwdAlgo_t forward_algorithm() const { return forward_algo_; }
  cudnnConvolutionBwdDataAlgo_t backward_data_algorithm() const { return data_algo_; }
  cudnnConvolutionBwdFilterAlgo_t backward_weights_algorithm() const { return filter_algo_; }
  // The scratch each pass needs, and the largest of them: one arena slot of workspace_bytes()
  // serves all three passes since they never run concurrently on one stream.
  size_t forward_workspace_bytes() const { return forward_bytes_; }
  size_t backward_data_workspace_bytes() const { return data_bytes_; }
  size_t backward_weights_workspace_bytes() const { return filter_bytes_; }
  size_t workspace_bytes() const;

  // y = conv(x, w) + b, then relu when attrs().fuse_relu. `b` is not read without bias.
  // `workspace` holds at least forward_workspace_bytes() (may be null when that is 0).
  absl::Status Forward(const float* x, const float* w, const float* b, float* y, void* workspace,
                       size_t workspace_bytes) const;
  // Only with fuse_relu: dz = dy where y > 0, else 0: the gradient w.r.t. the convolution's
  // output, which both backward passes take. dz may be dy.
  absl::Status FusedReluBackward(const float* y, const float* dy, float* dz) const;
  // dx = conv_transpose(dy, w).
  absl::Status BackwardData(const float* dy, const float* w, float* dx, void* workspace,
                            size_t workspace_bytes) const;
  // dw, and db with bias (otherwise `db` is not written and may be null).
  absl::Status BackwardWeights(const float* x, const float* dy, float* dw, float* db,
                               void* workspace, size_t workspace_bytes) const;

 private:
  Conv2dCuda() = default;
  absl::Status ChooseAlgorithms();
  absl::Status CheckWorkspace(const char* pass, size_t needed, const void* workspace,
                              size_t given) const;

  const CudaHandles* handles_ = nullptr;
  Conv2dShapes shapes_;
  Conv2dAttrs attrs_;
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
