// Pool2dCuda: descriptors from the CPU shape rules, and cuDNN's pooling forward/backward.
#include "ops/cuda/pooling.h"

#include "absl/strings/str_cat.h"
#include "ops/cuda/cuda_status.h"
#include "ops/global_avgpool.h"

namespace ald::cuda {
namespace {
constexpr float kOne = 1.0f, kZero = 0.0f;
}  // namespace

absl::StatusOr<std::unique_ptr<Pool2dCuda>> Pool2dCuda::CreateMax(const CudaHandles& handles,
                                                                  const Shape& input,
                                                                  const MaxPool2dAttrs& attrs) {
  ASSIGN_OR_RETURN(Shape output, MaxPool2dShape(input, attrs));
  return Make(handles, CUDNN_POOLING_MAX_DETERMINISTIC, input, output, attrs);
}

absl::StatusOr<std::unique_ptr<Pool2dCuda>> Pool2dCuda::CreateAvg(const CudaHandles& handles,
                                                                  const Shape& input,
                                                                  const AvgPool2dAttrs& attrs) {
  ASSIGN_OR_RETURN(Shape output, AvgPool2dShape(input, attrs));
  return Make(handles,
              attrs.count_include_pad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                      : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING,
              input, output, attrs.window);
}

absl::StatusOr<std::unique_ptr<Pool2dCuda>> Pool2dCuda::CreateGlobalAvg(const CudaHandles& handles,
                                                                        const Shape& input) {
  ASSIGN_OR_RETURN(Shape output, GlobalAvgPoolShape(input));
  Pool2dWindow window;
  window.kernel = {input[2], input[3]};
  window.stride = {input[2], input[3]};
  window.padding = {0, 0};
  return Make(handles, CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING, input, output, window);
}

absl::StatusOr<std::unique_ptr<Pool2dCuda>> Pool2dCuda::Make(const CudaHandles& handles,
                                                             cudnnPoolingMode_t mode,
                                                             const Shape& input,
                                                             const Shape& output,
                                                             const Pool2dWindow& window) {
  std::unique_ptr<Pool2dCuda> op(new Pool2dCuda());
  op->handles_ = &handles;
  op->input_ = input;
  op->output_ = output;
  ASSIGN_OR_RETURN(op->x_desc_, MakeTensorNchw(input[0], input[1], input[2], input[3]));
  // global_avgpool's [N, C] output is the same storage as [N, C, 1, 1].
  const int64_t oh = output.rank() == 4 ? output[2] : 1, ow = output.rank() == 4 ? output[3] : 1;
  ASSIGN_OR_RETURN(op->y_desc_, MakeTensorNchw(output[0], output[1], oh, ow));
  ASSIGN_OR_RETURN(op->pool_desc_,
                   MakePooling(mode, window.kernel[0], window.kernel[1], window.padding[0],
                               window.padding[1], window.stride[0], window.stride[1]));
  // cuDNN must agree with the CPU rule about the output size.
  int n = 0, c = 0, h = 0, w = 0;
  RETURN_IF_CUDNN_ERROR(
      cudnnGetPooling2dForwardOutputDim(op->pool_desc_.get(), op->x_desc_.get(), &n, &c, &h, &w));
  if (Shape{n, c, h, w} != Shape{output[0], output[1], oh, ow}) {
    return absl::InternalError(absl::StrCat("pooling: cuDNN computes output ",
                                            Shape{n, c, h, w}.ToString(), ", shape rule ",
                                            output.ToString()));
  }
  return op;
}

absl::Status Pool2dCuda::Forward(const float* x, float* y) const {
  RETURN_IF_CUDNN_ERROR(cudnnPoolingForward(handles_->cudnn(), pool_desc_.get(), &kOne,
                                            x_desc_.get(), x, &kZero, y_desc_.get(), y));
  return absl::OkStatus();
}

absl::Status Pool2dCuda::Backward(const float* x, const float* y, const float* dy,
                                  float* dx) const {
  RETURN_IF_CUDNN_ERROR(cudnnPoolingBackward(handles_->cudnn(), pool_desc_.get(), &kOne,
                                             y_desc_.get(), y, y_desc_.get(), dy, x_desc_.get(), x,
                                             &kZero, x_desc_.get(), dx));
  return absl::OkStatus();
}

}  // namespace ald::cuda
