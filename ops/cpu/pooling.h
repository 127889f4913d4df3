// oneDNN pooling forward/backward over NCHW tensors in plain or nChw16c layout, built once;
// shared by the kernels of maxpool2d, avgpool2d and global_avgpool, which differ only in
// algorithm, window and shapes.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/cpu/layout.h"
#include "ops/pool2d_window.h"

namespace ald::cpu {

class PoolingPrimitives {
 public:
  PoolingPrimitives() = default;
  // `output` is the shape callers pass (global_avgpool's [N, C]); oneDNN sees the same storage
  // as [N, C, OH, OW]. Source and destination (and their gradients) are both in `layout`, with
  // elements of `dtype`.
  static absl::StatusOr<PoolingPrimitives> Create(
      const std::string& op, dnnl::algorithm algorithm, const Shape& input, const Shape& output,
      const Pool2dWindow& window, ActivationLayout layout = ActivationLayout::kPlain,
      DType dtype = DType::kF32);

  // Training forward; `workspace` is needed exactly when has_workspace() (max pooling).
  absl::Status Forward(const Tensor& x, Tensor& y, Tensor* workspace);
  // Inference forward: no workspace is written.
  absl::Status ForwardInference(const Tensor& x, Tensor& y);
  absl::Status Backward(const Tensor& dy, Tensor& dx, const Tensor* workspace);

  bool has_workspace() const { return workspace_desc_.get_size() > 0; }
  const dnnl::memory::desc& workspace_desc() const { return workspace_desc_; }
  // The workspace as a tensor the graph can allocate: opaque bytes (in whatever layout oneDNN
  // chose for this src/dst layout), typed i32 because core has no byte dtype.
  Shape workspace_shape() const;

 private:
  absl::Status CheckWorkspace(const std::string& what, const Tensor* workspace) const;

  std::string op_;
  Shape input_, output_;
  DType dtype_ = DType::kF32;
  dnnl::memory::desc input_desc_, output_desc_, workspace_desc_;
  dnnl::pooling_forward forward_, forward_inference_;
  dnnl::pooling_backward backward_;
};

}  // namespace ald::cpu
