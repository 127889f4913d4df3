// Construction of the cuDNN descriptors, each checked call by call.
#include "ops/cuda/cudnn_descriptors.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {

absl::StatusOr<int> ToCudnnInt(int64_t value, const char* what) {
  if (value < 0 || value > std::numeric_limits<int>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cuDNN: ", what, " ", value, " does not fit cuDNN's int extents"));
  }
  return static_cast<int>(value);
}

absl::StatusOr<TensorDescriptor> MakeTensorNchw(int64_t n, int64_t c, int64_t h, int64_t w,
                                                cudnnDataType_t type) {
  ASSIGN_OR_RETURN(const int ni, ToCudnnInt(n, "batch"));
  ASSIGN_OR_RETURN(const int ci, ToCudnnInt(c, "channels"));
  ASSIGN_OR_RETURN(const int hi, ToCudnnInt(h, "height"));
  ASSIGN_OR_RETURN(const int wi, ToCudnnInt(w, "width"));
  cudnnTensorDescriptor_t raw = nullptr;
  RETURN_IF_CUDNN_ERROR(cudnnCreateTensorDescriptor(&raw));
  TensorDescriptor desc(raw);
  RETURN_IF_CUDNN_ERROR(
      cudnnSetTensor4dDescriptor(raw, CUDNN_TENSOR_NCHW, type, ni, ci, hi, wi));
  return desc;
}

absl::StatusOr<FilterDescriptor> MakeFilterOihw(int64_t k, int64_t c, int64_t r, int64_t s,
                                                cudnnDataType_t type) {
  ASSIGN_OR_RETURN(const int ki, ToCudnnInt(k, "output channels"));
  ASSIGN_OR_RETURN(const int ci, ToCudnnInt(c, "input channels"));
  ASSIGN_OR_RETURN(const int ri, ToCudnnInt(r, "kernel height"));
  ASSIGN_OR_RETURN(const int si, ToCudnnInt(s, "kernel width"));
  cudnnFilterDescriptor_t raw = nullptr;
  RETURN_IF_CUDNN_ERROR(cudnnCreateFilterDescriptor(&raw));
  FilterDescriptor desc(raw);
  RETURN_IF_CUDNN_ERROR(
      cudnnSetFilter4dDescriptor(raw, type, CUDNN_TENSOR_NCHW, ki, ci, ri, si));
  return desc;
}

absl::StatusOr<ConvolutionDescriptor> MakeConvolution(int64_t pad_h, int64_t pad_w,
                                                      int64_t stride_h, int64_t stride_w,
                                                      bool tensor_cores) {
  ASSIGN_OR_RETURN(const int ph, ToCudnnInt(pad_h, "padding"));
  ASSIGN_OR_RETURN(const int pw, ToCudnnInt(pad_w, "padding"));
  ASSIGN_OR_RETURN(const int sh, ToCudnnInt(stride_h, "stride"));
  ASSIGN_OR_RETURN(const int sw, ToCudnnInt(stride_w, "stride"));
  cudnnConvolutionDescriptor_t raw = nullptr;
  RETURN_IF_CUDNN_ERROR(cudnnCreateConvolutionDescriptor(&raw));
  ConvolutionDescriptor desc(raw);
  RETURN_IF_CUDNN_ERROR(cudnnSetConvolution2dDescriptor(raw, ph, pw, sh, sw, /*dilation_h=*/1,
                                                        /*dilation_w=*/1, CUDNN_CROSS_CORRELATION,
                                                        CUDNN_DATA_FLOAT));
  RETURN_IF_CUDNN_ERROR(
      cudnnSetConvolutionMathType(raw, tensor_cores ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
  return desc;
}

absl::StatusOr<PoolingDescriptor> MakePooling(cudnnPoolingMode_t mode, int64_t kernel_h,
                                              int64_t kernel_w, int64_t pad_h, int64_t pad_w,
                                              int64_t stride_h, int64_t stride_w) {
  ASSIGN_OR_RETURN(const int kh, ToCudnnInt(kernel_h, "kernel"));
  ASSIGN_OR_RETURN(const int kw, ToCudnnInt(kernel_w, "kernel"));
  ASSIGN_OR_RETURN(const int ph, ToCudnnInt(pad_h, "padding"));
  ASSIGN_OR_RETURN(const int pw, ToCudnnInt(pad_w, "padding"));
  ASSIGN_OR_RETURN(const int sh, ToCudnnInt(stride_h, "stride"));
  ASSIGN_OR_RETURN(const int sw, ToCudnnInt(stride_w, "stride"));
  cudnnPoolingDescriptor_t raw = nullptr;
  RETURN_IF_CUDNN_ERROR(cudnnCreatePoolingDescriptor(&raw));
  PoolingDescriptor desc(raw);
  RETURN_IF_CUDNN_ERROR(
      cudnnSetPooling2dDescriptor(raw, mode, CUDNN_PROPAGATE_NAN, kh, kw, ph, pw, sh, sw));
  return desc;
}

absl::StatusOr<ActivationDescriptor> MakeRelu() {
  return MakeActivation(CUDNN_ACTIVATION_RELU, 0.0);
}

absl::StatusOr<ActivationDescriptor> MakeActivation(cudnnActivationMode_t mode, double coef) {
  cudnnActivationDescriptor_t raw = nullptr;
  RETURN_IF_CUDNN_ERROR(cudnnCreateActivationDescriptor(&raw));
  ActivationDescriptor desc(raw);
  RETURN_IF_CUDNN_ERROR(cudnnSetActivationDescriptor(raw, mode, CUDNN_PROPAGATE_NAN, coef));
  return desc;
}

}  // namespace ald::cuda
