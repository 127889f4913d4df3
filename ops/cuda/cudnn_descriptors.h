// Owned cuDNN descriptors (tensor, filter, convolution, pooling, activation) for NCHW data (fp32,
// or bf16 for --precision=bf16's convolutions), each built fully or not at all, so an op's
// Create either has all of them or returns an error.
#pragma once

#include <cstdint>
#include <utility>

#include "absl/status/statusor.h"
#include "cudnn.h"

namespace ald::cuda {

// One descriptor of type D, destroyed with cudnnDestroy*; movable, not copyable.
template <typename D, cudnnStatus_t (*Destroy)(D)>
class CudnnDescriptor {
 public:
  CudnnDescriptor() = default;
  explicit CudnnDescriptor(D desc) : desc_(desc) {}
  CudnnDescriptor(CudnnDescriptor&& other) noexcept : desc_(std::exchange(other.desc_, nullptr)) {}
  CudnnDescriptor& operator=(CudnnDescriptor&& other) noexcept {
    if (this != &other) {
      Reset();
      desc_ = std::exchange(other.desc_, nullptr);
    }
    return *this;
  }
  CudnnDescriptor(const CudnnDescriptor&) = delete;
  CudnnDescriptor& operator=(const CudnnDescriptor&) = delete;
  ~CudnnDescriptor() { Reset(); }

  D get() const { return desc_; }

 private:
  void Reset() {
    if (desc_ != nullptr) (void)Destroy(desc_);
    desc_ = nullptr;
  }
  D desc_ = nullptr;
};

using TensorDescriptor = CudnnDescriptor<cudnnTensorDescriptor_t, cudnnDestroyTensorDescriptor>;
using FilterDescriptor = CudnnDescriptor<cudnnFilterDescriptor_t, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    CudnnDescriptor<cudnnConvolutionDescriptor_t, cudnnDestroyConvolutionDescriptor>;
using PoolingDescriptor = CudnnDescriptor<cudnnPoolingDescriptor_t, cudnnDestroyPoolingDescriptor>;
using ActivationDescriptor =
    CudnnDescriptor<cudnnActivationDescriptor_t, cudnnDestroyActivationDescriptor>;

// cuDNN's legacy API takes int extents; larger ones are an error, not a silent truncation.
absl::StatusOr<int> ToCudnnInt(int64_t value, const char* what);

// Packed NCHW tensor [n, c, h, w] of `type` (CUDNN_DATA_FLOAT or CUDNN_DATA_BFLOAT16).
absl::StatusOr<TensorDescriptor> MakeTensorNchw(int64_t n, int64_t c, int64_t h, int64_t w,
                                                cudnnDataType_t type = CUDNN_DATA_FLOAT);
// OIHW filter [k, c, r, s] of `type`.
absl::StatusOr<FilterDescriptor> MakeFilterOihw(int64_t k, int64_t c, int64_t r, int64_t s,
                                                cudnnDataType_t type = CUDNN_DATA_FLOAT);
// Cross-correlation (what deep-learning "convolution" means), fp32 compute, no dilation, groups 1.
// fp32 data gets CUDNN_FMA_MATH: on Ampere and later CUDNN_DEFAULT_MATH still lets fp32
// convolutions use TF32 tensor cores (10-bit mantissa), which would break agreement with the
// fp32 reference. `tensor_cores` (bf16 data) gets CUDNN_TENSOR_OP_MATH: bf16 products on the
// tensor cores, accumulated in fp32.
absl::StatusOr<ConvolutionDescriptor> MakeConvolution(int64_t pad_h, int64_t pad_w,
                                                      int64_t stride_h, int64_t stride_w,
                                                      bool tensor_cores = false);
absl::StatusOr<PoolingDescriptor> MakePooling(cudnnPoolingMode_t mode, int64_t kernel_h,
                                              int64_t kernel_w, int64_t pad_h, int64_t pad_w,
                                              int64_t stride_h, int64_t stride_w);
// max(x, 0); NaNs propagate as in PyTorch's relu.
absl::StatusOr<ActivationDescriptor> MakeRelu();
// Any cuDNN activation, NaNs propagating (MakeRelu is mode CUDNN_ACTIVATION_RELU, coef 0).
absl::StatusOr<ActivationDescriptor> MakeActivation(cudnnActivationMode_t mode, double coef);

}  // namespace ald::cuda
