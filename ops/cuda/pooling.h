// maxpool2d, avgpool2d and global_avgpool on cuDNN pooling (fp32 NCHW device pointers): one
// class, since the three differ only in cuDNN's mode, the window and the output shape.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ops/avgpool2d.h"
#include "ops/cuda/cudnn_descriptors.h"
#include "ops/cuda/handles.h"
#include "ops/maxpool2d.h"

namespace ald::cuda {

class Pool2dCuda {
 public:
  // Shapes are checked by the CPU rules (MaxPool2dShape, AvgPool2dShape, GlobalAvgPoolShape).
  // Max pooling uses CUDNN_POOLING_MAX_DETERMINISTIC so that the backward pass is reproducible.
  // Padded positions never win a max window. Average pooling maps count_include_pad to
  // CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING (divisor kernel_h·kernel_w, as ops/ref: with
  // floor-mode sizes a window never reaches past the padding) or ..._EXCLUDE_PADDING (divisor:
  // the real elements covered). `handles` must outlive the op.
  static absl::StatusOr<std::unique_ptr<Pool2dCuda>> CreateMax(const CudaHandles& handles,
                                                               const Shape& input,
                                                               const MaxPool2dAttrs& attrs);
  static absl::StatusOr<std::unique_ptr<Pool2dCuda>> CreateAvg(const CudaHandles& handles,
                                                               const Shape& input,
                                                               const AvgPool2dAttrs& attrs);
  // [N, C, H, W] -> [N, C]: an average window covering the whole plane.
  static absl::StatusOr<std::unique_ptr<Pool2dCuda>> CreateGlobalAvg(const CudaHandles& handles,
                                                                     const Shape& input);

  const Shape& input_shape() const { return input_; }
  const Shape& output_shape() const { return output_; }

  absl::Status Forward(const float* x, float* y) const;
  // cuDNN's pooling backward takes the forward's x and y (max pooling finds the winner from
  // them; average pooling ignores them), so no workspace is kept between the passes.
  absl::Status Backward(const float* x, const float* y, const float* dy, float* dx) const;

 private:
  Pool2dCuda() = default;
  static absl::StatusOr<std::unique_ptr<Pool2dCuda>> Make(const CudaHandles& handles,
                                                          cudnnPoolingMode_t mode,
                                                          const Shape& input, const Shape& output,
                                                          const Pool2dWindow& window);

  const CudaHandles* handles_ = nullptr;
  Shape input_, output_;
  TensorDescriptor x_desc_, y_desc_;
  PoolingDescriptor pool_desc_;
};

}  // namespace ald::cuda
