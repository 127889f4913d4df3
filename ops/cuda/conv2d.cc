// Conv2dCuda: descriptor setup, one-time algorithm choice and the cuDNN calls of each pass.
#include "ops/cuda/conv2d.h"

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/cuda/bf16_kernels.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {
namespace {

constexpr float kOne = 1.0f, kZero = 0.0f;

constexpr size_t kWorkspaceAlignment = 256;

// Tensor-core math types run fp32 convolutions in TF32; fp32 data accepts only plain fp32
// results. bf16 data is what the tensor cores are for.
bool AcceptedMath(cudnnMathType_t math, bool bf16) {
  return bf16 || math == CUDNN_DEFAULT_MATH || math == CUDNN_FMA_MATH;
}

// Walks the heuristic's ranking and keeps the first algorithm that succeeded, runs in an accepted
// math (AcceptedMath), is deterministic (backward-data ALGO_0 and backward-filter ALGO_0/3
// accumulate with atomics, so a repeated or resumed run would not reproduce its gradients bit
// for bit), and whose workspace size cuDNN reports under our descriptor;
// `fallback` (deterministic, and supported by every geometry) if none is. Returns the algorithm
// and its workspace size.
template <typename Algo, typename Perf, typename Rank, typename Size>
absl::StatusOr<std::pair<Algo, size_t>> Choose(const char* pass, bool bf16, int max_count,
                                               Rank rank, Size workspace_size, Algo fallback) {
  std::vector<Perf> perf(static_cast<size_t>(std::max(max_count, 1)));
  int returned = 0;
  RETURN_IF_ERROR(rank(static_cast<int>(perf.size()), &returned, perf.data()));
  for (int i = 0; i < returned; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || !AcceptedMath(perf[i].mathType, bf16) ||
        perf[i].determinism != CUDNN_DETERMINISTIC) {
      continue;
    }
    size_t bytes = 0;
    if (!workspace_size(perf[i].algo, &bytes).ok()) continue;
    return std::make_pair(perf[i].algo, bytes);
  }
  size_t bytes = 0;
  absl::Status status = workspace_size(fallback, &bytes);
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("conv2d ", pass, ": no ", bf16 ? "bf16" : "fp32",
                                     " algorithm: ", status.message()));
  }
  return std::make_pair(fallback, bytes);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Conv2dCuda>> Conv2dCuda::Create(const CudaHandles& handles,
                                                               const Shape& input,
                                                               const Shape& weight,
                                                               const Conv2dAttrs& attrs,
                                                               DType dtype) {
  ASSIGN_OR_RETURN(Conv2dShapes shapes, InferConv2d(input, weight, attrs));
  if (dtype != DType::kF32 && dtype != DType::kBF16) {
    return absl::InvalidArgumentError(absl::StrCat("conv2d: activations of type ",
                                                   DTypeName(dtype), ", expected f32 or bf16"));
  }
  std::unique_ptr<Conv2dCuda> op(new Conv2dCuda());
  op->handles_ = &handles;
  op->shapes_ = shapes;
  op->attrs_ = attrs;
  op->dtype_ = dtype;
  const cudnnDataType_t type = op->bf16() ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
  const Shape& x = shapes.input;
  const Shape& w = shapes.weight;
  const Shape& y = shapes.output;
  ASSIGN_OR_RETURN(op->x_desc_, MakeTensorNchw(x[0], x[1], x[2], x[3], type));
  ASSIGN_OR_RETURN(op->y_desc_, MakeTensorNchw(y[0], y[1], y[2], y[3], type));
  ASSIGN_OR_RETURN(op->bias_desc_, MakeTensorNchw(1, y[1], 1, 1));
  ASSIGN_OR_RETURN(op->w_desc_, MakeFilterOihw(w[0], w[1], w[2], w[3], type));
  ASSIGN_OR_RETURN(op->conv_desc_,
                   MakeConvolution(attrs.padding[0], attrs.padding[1], attrs.stride[0],
                                   attrs.stride[1], /*tensor_cores=*/op->bf16()));
  ASSIGN_OR_RETURN(op->relu_desc_, MakeRelu());
  // cuDNN must agree with the CPU rule about the output size; a mismatch would mean the
  // descriptors do not describe the op.
  int n = 0, k = 0, oh = 0, ow = 0;
  RETURN_IF_CUDNN_ERROR(cudnnGetConvolution2dForwardOutputDim(
      op->conv_desc_.get(), op->x_desc_.get(), op->w_desc_.get(), &n, &k, &oh, &ow));
  if (Shape{n, k, oh, ow} != y) {
    return absl::InternalError(absl::StrCat("conv2d: cuDNN computes output ",
                                            Shape{n, k, oh, ow}.ToString(), ", shape rule ",
                                            y.ToString()));
  }
  RETURN_IF_ERROR(op->ChooseAlgorithms());
  return op;
}

absl::Status Conv2dCuda::ChooseAlgorithms() {
  cudnnHandle_t h = handles_->cudnn();
  int max_count = 0;

  RETURN_IF_CUDNN_ERROR(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max_count));
  ASSIGN_OR_RETURN(auto forward,
                   (Choose<cudnnConvolutionFwdAlgo_t, cudnnConvolutionFwdAlgoPerf_t>(
                       "forward", bf16(), max_count,
                       [&](int requested, int* returned, cudnnConvolutionFwdAlgoPerf_t* perf) {
                         return CudnnStatus(cudnnGetConvolutionForwardAlgorithm_v7(
                                                h, x_desc_.get(), w_desc_.get(), conv_desc_.get(),
                                                y_desc_.get(), requested, returned, perf),
                                            "cudnnGetConvolutionForwardAlgorithm_v7");
                       },
                       [&](cudnnConvolutionFwdAlgo_t algo, size_t* bytes) {
                         return CudnnStatus(cudnnGetConvolutionForwardWorkspaceSize(
                                                h, x_desc_.get(), w_desc_.get(), conv_desc_.get(),
                                                y_desc_.get(), algo, bytes),
                                            "cudnnGetConvolutionForwardWorkspaceSize");
                       },
                       CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM)));
  std::tie(forward_algo_, forward_bytes_) = forward;

  RETURN_IF_CUDNN_ERROR(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max_count));
  ASSIGN_OR_RETURN(auto data,
                   (Choose<cudnnConvolutionBwdDataAlgo_t, cudnnConvolutionBwdDataAlgoPerf_t>(
                       "backward data", bf16(), max_count,
                       [&](int requested, int* returned, cudnnConvolutionBwdDataAlgoPerf_t* perf) {
                         return CudnnStatus(cudnnGetConvolutionBackwardDataAlgorithm_v7(
                                                h, w_desc_.get(), y_desc_.get(), conv_desc_.get(),
                                                x_desc_.get(), requested, returned, perf),
                                            "cudnnGetConvolutionBackwardDataAlgorithm_v7");
                       },
                       [&](cudnnConvolutionBwdDataAlgo_t algo, size_t* bytes) {
                         return CudnnStatus(cudnnGetConvolutionBackwardDataWorkspaceSize(
                                                h, w_desc_.get(), y_desc_.get(), conv_desc_.get(),
                                                x_desc_.get(), algo, bytes),
                                            "cudnnGetConvolutionBackwardDataWorkspaceSize");
                       },
                       CUDNN_CONVOLUTION_BWD_DATA_ALGO_1)));
  std::tie(data_algo_, data_bytes_) = data;

  RETURN_IF_CUDNN_ERROR(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max_count));
  ASSIGN_OR_RETURN(
      auto filter,
      (Choose<cudnnConvolutionBwdFilterAlgo_t, cudnnConvolutionBwdFilterAlgoPerf_t>(
          "backward weights", bf16(), max_count,
          [&](int requested, int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* perf) {
            return CudnnStatus(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                                   h, x_desc_.get(), y_desc_.get(), conv_desc_.get(), w_desc_.get(),
                                   requested, returned, perf),
                               "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
          },
          [&](cudnnConvolutionBwdFilterAlgo_t algo, size_t* bytes) {
            return CudnnStatus(
                cudnnGetConvolutionBackwardFilterWorkspaceSize(
                    h, x_desc_.get(), y_desc_.get(), conv_desc_.get(), w_desc_.get(), algo, bytes),
                "cudnnGetConvolutionBackwardFilterWorkspaceSize");
          },
          CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1)));
  std::tie(filter_algo_, filter_bytes_) = filter;
  return absl::OkStatus();
}

size_t Conv2dCuda::weight_gradient_offset() const {
  return (filter_bytes_ + kWorkspaceAlignment - 1) / kWorkspaceAlignment * kWorkspaceAlignment;
}

size_t Conv2dCuda::bf16_backward_weights_bytes() const {
  return weight_gradient_offset() +
         static_cast<size_t>(shapes_.weight.num_elements()) * sizeof(BFloat16);
}

size_t Conv2dCuda::workspace_bytes() const {
  const size_t weights = bf16() ? bf16_backward_weights_bytes() : filter_bytes_;
  return std::max({forward_bytes_, data_bytes_, weights});
}

absl::Status Conv2dCuda::CheckWorkspace(const char* pass, size_t needed, const void* workspace,
                                        size_t given) const {
  if (needed == 0 || (workspace != nullptr && given >= needed)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("conv2d ", pass, ": workspace of ", workspace == nullptr ? 0 : given,
                   " bytes, needs ", needed, " (input ", shapes_.input.ToString(), ", weight ",
                   shapes_.weight.ToString(), ", ", DescribeConv2d(attrs_), ")"));
}

absl::Status Conv2dCuda::PrepareWeights(const float* w, BFloat16* w16) const {
  if (!bf16()) {
    return absl::FailedPreconditionError("conv2d: PrepareWeights on an fp32 convolution");
  }
  RETURN_IF_CUDA_ERROR(
      kernels::CastToBf16(w, w16, shapes_.weight.num_elements(), handles_->stream()));
  return absl::OkStatus();
}

absl::Status Conv2dCuda::Forward(const void* x, const void* w, const float* b, void* y,
                                 void* workspace, size_t workspace_bytes) const {
  RETURN_IF_ERROR(CheckWorkspace("forward", forward_bytes_, workspace, workspace_bytes));
  cudnnHandle_t h = handles_->cudnn();
  RETURN_IF_CUDNN_ERROR(cudnnConvolutionForward(h, &kOne, x_desc_.get(), x, w_desc_.get(), w,
                                                conv_desc_.get(), forward_algo_, workspace,
                                                forward_bytes_, &kZero, y_desc_.get(), y));
  if (bf16()) {
    // cuDNN adds an fp32 bias to bf16 data only through its fused call; one pass of ours does
    // bias and ReLU together.
    const Shape& out = shapes_.output;
    RETURN_IF_CUDA_ERROR(kernels::BiasReluBf16(static_cast<BFloat16*>(y),
                                               attrs_.bias ? b : nullptr, out[0], out[1],
                                               out[2] * out[3], attrs_.fuse_relu,
                                               handles_->stream()));
    return absl::OkStatus();
  }
  // Separate bias and ReLU calls rather than cudnnConvolutionBiasActivationForward: the fused
  // call only supports CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM without the ReLU, which
  // would override the heuristic's choice; these two passes are memory-bound and cheap.
  if (attrs_.bias) {
    RETURN_IF_CUDNN_ERROR(cudnnAddTensor(h, &kOne, bias_desc_.get(), b, &kOne, y_desc_.get(), y));
  }
  if (attrs_.fuse_relu) {
    RETURN_IF_CUDNN_ERROR(cudnnActivationForward(h, relu_desc_.get(), &kOne, y_desc_.get(), y,
                                                 &kZero, y_desc_.get(), y));
  }
  return absl::OkStatus();
}

absl::Status Conv2dCuda::FusedReluBackward(const void* y, const void* dy, void* dz) const {
  if (!attrs_.fuse_relu) {
    return absl::FailedPreconditionError(absl::StrCat(
        "conv2d: FusedReluBackward without fuse_relu (input ", shapes_.input.ToString(), ")"));
  }
  if (bf16()) {
    RETURN_IF_CUDA_ERROR(kernels::ReluBackwardBf16(
        static_cast<const BFloat16*>(y), static_cast<const BFloat16*>(dy),
        static_cast<BFloat16*>(dz), shapes_.output.num_elements(), handles_->stream()));
    return absl::OkStatus();
  }
  // relu's derivative is (x > 0), and y > 0 exactly where the pre-activation is, so y stands in
  // for cuDNN's x argument.
  RETURN_IF_CUDNN_ERROR(cudnnActivationBackward(handles_->cudnn(), relu_desc_.get(), &kOne,
                                                y_desc_.get(), y, y_desc_.get(), dy, y_desc_.get(),
                                                y, &kZero, y_desc_.get(), dz));
  return absl::OkStatus();
}

absl::Status Conv2dCuda::BackwardData(const void* dy, const void* w, void* dx, void* workspace,
                                      size_t workspace_bytes) const {
  RETURN_IF_ERROR(CheckWorkspace("backward data", data_bytes_, workspace, workspace_bytes));
  RETURN_IF_CUDNN_ERROR(cudnnConvolutionBackwardData(
      handles_->cudnn(), &kOne, w_desc_.get(), w, y_desc_.get(), dy, conv_desc_.get(), data_algo_,
      workspace, data_bytes_, &kZero, x_desc_.get(), dx));
  return absl::OkStatus();
}

absl::Status Conv2dCuda::BackwardWeights(const void* x, const void* dy, float* dw, float* db,
                                         void* workspace, size_t workspace_bytes) const {
  cudnnHandle_t h = handles_->cudnn();
  if (bf16()) {
    // cuDNN writes the weight gradient in the filter's type: bf16 into the workspace's tail,
    // widened into the fp32 gradient (PyTorch's autocast rounds it the same way).
    RETURN_IF_ERROR(CheckWorkspace("backward weights", bf16_backward_weights_bytes(), workspace,
                                   workspace_bytes));
    auto* dw16 = reinterpret_cast<BFloat16*>(static_cast<char*>(workspace) +
                                             weight_gradient_offset());
    RETURN_IF_CUDNN_ERROR(cudnnConvolutionBackwardFilter(
        h, &kOne, x_desc_.get(), x, y_desc_.get(), dy, conv_desc_.get(), filter_algo_, workspace,
        filter_bytes_, &kZero, w_desc_.get(), dw16));
    RETURN_IF_CUDA_ERROR(
        kernels::CastToF32(dw16, dw, shapes_.weight.num_elements(), handles_->stream()));
    if (attrs_.bias) {
      const Shape& out = shapes_.output;
      RETURN_IF_CUDA_ERROR(kernels::BiasGradientBf16(static_cast<const BFloat16*>(dy), out[0],
                                                     out[1], out[2] * out[3], db,
                                                     handles_->stream()));
    }
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(CheckWorkspace("backward weights", filter_bytes_, workspace, workspace_bytes));
  RETURN_IF_CUDNN_ERROR(cudnnConvolutionBackwardFilter(
      h, &kOne, x_desc_.get(), x, y_desc_.get(), dy, conv_desc_.get(), filter_algo_, workspace,
      filter_bytes_, &kZero, w_desc_.get(), dw));
  if (attrs_.bias) {
    RETURN_IF_CUDNN_ERROR(
        cudnnConvolutionBackwardBias(h, &kOne, y_desc_.get(), dy, &kZero, bias_desc_.get(), db));
  }
  return absl::OkStatus();
}

}  // namespace ald::cuda
