// BatchNorm2d on cuDNN (spatial mode, PyTorch semantics): training forward with the running-
// statistic update, inference forward, and the training backward, on fp32 NCHW device pointers;
// optional fused ReLU as in BatchNorm2dAttrs::fuse_relu.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "ops/batchnorm2d.h"
#include "ops/cuda/cudnn_descriptors.h"
#include "ops/cuda/handles.h"

namespace ald::cuda {

// Saved statistics differ from the CPU kernel's: cuDNN keeps the batch mean and the inverse
// standard deviation 1/sqrt(var + eps) (not the variance) for its backward, so ForwardTraining
// writes those and Backward takes them. Converting to the variance and back would only lose bits.
//
// Running statistics: cuDNN's update is running = (1 - f)·running + f·batch with the *unbiased*
// batch variance (× M/(M-1), M = N·H·W), which is exactly PyTorch's and ops/cpu's convention
// (BatchNorm2dCpu::UpdateRunningStatistics) with f = momentum; the test checks this against the
// reference statistics.
class BatchNorm2dCuda {
 public:
  // Validates with the CPU rule (InferBatchNorm2d). `handles` must outlive the op.
  static absl::StatusOr<std::unique_ptr<BatchNorm2dCuda>> Create(const CudaHandles& handles,
                                                                 const Shape& input,
                                                                 const BatchNorm2dAttrs& attrs);

  const BatchNorm2dShapes& shapes() const { return shapes_; }
  const BatchNorm2dAttrs& attrs() const { return attrs_; }

  // y from the batch statistics (then relu when fused); writes saved_mean and saved_inv_std [C]
  // and updates running_mean and running_var [C] in place. Rejects inputs with one value per
  // channel (CheckBatchNorm2dTraining), as the CPU kernel and PyTorch do.
  absl::Status ForwardTraining(const float* x, const float* gamma, const float* beta, float* y,
                               float* saved_mean, float* saved_inv_std, float* running_mean,
                               float* running_var) const;
  // y from the running statistics (then relu when fused).
  absl::Status ForwardInference(const float* x, const float* gamma, const float* beta,
                                const float* running_mean, const float* running_var,
                                float* y) const;
  // Only with fuse_relu: dz = dy where y > 0, else 0 (dz may be dy); Backward then takes dz.
  absl::Status FusedReluBackward(const float* y, const float* dy, float* dz) const;
  // dx, dgamma, dbeta from the statistics saved by ForwardTraining of the same batch.
  absl::Status Backward(const float* x, const float* gamma, const float* saved_mean,
                        const float* saved_inv_std, const float* dy, float* dx, float* dgamma,
                        float* dbeta) const;

 private:
  BatchNorm2dCuda() = default;

  const CudaHandles* handles_ = nullptr;
  BatchNorm2dShapes shapes_;
  BatchNorm2dAttrs attrs_;
  TensorDescriptor data_desc_, channel_desc_;
  ActivationDescriptor relu_desc_;
};

}  // namespace ald::cuda
