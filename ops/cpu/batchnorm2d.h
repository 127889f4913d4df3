// BatchNorm2d on oneDNN: training-forward, inference-forward and backward primitives built once
// (use_scale | use_shift, optionally fuse_norm_relu with its workspace), plus the running-statistic
// update oneDNN does not do. Activations are plain NCHW unless Create is given another layout:
// either a desc for the primitives only (the Tensor API then bridges from plain tensors, the
// *Native calls not), or an ActivationLayout that the tensors themselves follow (no bridge).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/batchnorm2d.h"
#include "ops/cpu/dnnl_util.h"
#include "ops/cpu/layout.h"

namespace ald::cpu {

class BatchNorm2dCpu {
 public:
  // `data_layout`: the layout the primitives run in; a zero desc (the default) means plain NCHW.
  static absl::StatusOr<std::unique_ptr<BatchNorm2dCpu>> Create(
      const Shape& input, const BatchNorm2dAttrs& attrs,
      const dnnl::memory::desc& data_layout = dnnl::memory::desc());
  // x, y, dy and dx at the Tensor API are in `layout` with elements of `dtype`, and so are the
  // primitives: nothing is reordered. ActivationLayout::kPlain with f32 is the same kernel as
  // the default above. Scale, shift and the statistics are f32 whatever `dtype` is.
  static absl::StatusOr<std::unique_ptr<BatchNorm2dCpu>> Create(const Shape& input,
                                                                const BatchNorm2dAttrs& attrs,
                                                                ActivationLayout layout,
                                                                DType dtype = DType::kF32);

  const BatchNorm2dShapes& shapes() const { return shapes_; }
  const BatchNorm2dAttrs& attrs() const { return attrs_; }
  const dnnl::memory::desc& data_layout() const { return data_layout_; }
  // The layout of the Tensor API's activation tensors.
  const dnnl::memory::desc& tensor_layout() const { return tensor_layout_; }

  // Training: y from the batch statistics (then relu when fused); writes the batch mean and
  // biased variance (kept by the graph for Backward) and updates the running statistics.
  // With fuse_relu the kernel keeps the ReLU mask (oneDNN's workspace) for the next Backward.
  absl::Status ForwardTraining(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& y,
                               Tensor& mean, Tensor& var, Tensor& running_mean,
                               Tensor& running_var);
  // Inference: y from the running statistics (then relu when fused).
  absl::Status ForwardInference(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                const Tensor& running_mean, const Tensor& running_var, Tensor& y);
  // Training backward from the saved batch statistics: dx, dgamma, dbeta. With fuse_relu, dy is
  // the gradient w.r.t. relu's output and must follow the ForwardTraining of the same batch.
  absl::Status Backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& var,
                        const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta);

  // The same passes with activations already in data_layout(); per-channel tensors stay plain.
  absl::Status ForwardTrainingNative(const dnnl::memory& src, const Tensor& gamma,
                                     const Tensor& beta, const dnnl::memory& dst, Tensor& mean,
                                     Tensor& var, Tensor& running_mean, Tensor& running_var);
  absl::Status ForwardInferenceNative(const dnnl::memory& src, const Tensor& gamma,
                                      const Tensor& beta, const Tensor& running_mean,
                                      const Tensor& running_var, const dnnl::memory& dst);
  absl::Status BackwardNative(const dnnl::memory& src, const Tensor& gamma, const Tensor& mean,
                              const Tensor& var, const dnnl::memory& diff_dst,
                              const dnnl::memory& diff_src, Tensor& dgamma, Tensor& dbeta);

  // running = (1 - m) * running + m * batch, with the variance made unbiased (× M / (M - 1),
  // M = N*H*W) as PyTorch does. Hand-written: oneDNN's batch normalisation has no running
  // statistics; a loop over C channels costs nothing next to the normalisation.
  static void UpdateRunningStatistics(float momentum, int64_t per_channel, const Tensor& mean,
                                      const Tensor& var, Tensor& running_mean,
                                      Tensor& running_var);

 private:
  BatchNorm2dCpu() = default;
  static absl::StatusOr<std::unique_ptr<BatchNorm2dCpu>> Make(const Shape& input,
                                                              const BatchNorm2dAttrs& attrs,
                                                              const dnnl::memory::desc& data,
                                                              const dnnl::memory::desc& tensors);
  absl::Status BuildPrimitives();
  // A view of an activation tensor of the Tensor API in tensor_layout().
  dnnl::memory UserMemory(const Tensor& tensor) const { return MemoryAs(tensor_layout_, tensor); }
  absl::Status CheckChannelTensors(const std::string& op,
                                   std::initializer_list<std::pair<const char*, const Tensor*>>
                                       tensors) const;

  BatchNorm2dShapes shapes_;
  BatchNorm2dAttrs attrs_;
  dnnl::memory::desc data_layout_, tensor_layout_;
  DType dtype_ = DType::kF32;  // of the activations at the Tensor API
  dnnl::batch_normalization_forward::primitive_desc training_pd_;
  dnnl::batch_normalization_forward training_, inference_;
  dnnl::batch_normalization_backward backward_;
  dnnl::memory workspace_;  // the fused ReLU's mask, from ForwardTraining to Backward
  // oneDNN 2.6's backward with use_shift insists on a shift argument although no gradient
  // depends on beta; this zero-filled [C] buffer satisfies it without widening our API.
  dnnl::memory backward_shift_;
  // From tensor_layout_ to data_layout_: no-ops when they agree.
  LayoutBridge x_, y_, dy_, dx_;
};

}  // namespace ald::cpu
