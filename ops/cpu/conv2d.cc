#include "ops/cpu/conv2d.h"

#include <utility>

#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

absl::StatusOr<std::unique_ptr<Conv2dCpu>> Conv2dCpu::Create(const Shape& input,
                                                             const Shape& weight,
                                                             const Conv2dAttrs& attrs,
                                                             ActivationLayout input_layout,
                                                             ActivationLayout output_layout,
                                                             DType dtype) {
  ASSIGN_OR_RETURN(Conv2dShapes shapes, InferConv2d(input, weight, attrs));
  RETURN_IF_ERROR(CheckLayout("conv2d input", shapes.input, input_layout));
  RETURN_IF_ERROR(CheckLayout("conv2d output", shapes.output, output_layout));
  auto kernel = std::unique_ptr<Conv2dCpu>(new Conv2dCpu());
  kernel->shapes_ = shapes;
  kernel->attrs_ = attrs;
  kernel->input_layout_ = input_layout;
  kernel->output_layout_ = output_layout;
  kernel->dtype_ = dtype;
  RETURN_IF_ERROR(kernel->BuildPrimitives());
  if (dtype == DType::kBF16 && input_layout == ActivationLayout::kChannelsLast &&
      output_layout == ActivationLayout::kChannelsLast && Im2colWeightGradCpu::Pays(shapes)) {
    ASSIGN_OR_RETURN(kernel->im2col_weight_grad_, Im2colWeightGradCpu::Create(shapes, attrs));
  }
  if (attrs.fuse_relu) {
    ASSIGN_OR_RETURN(kernel->relu_, ReluCpu::Create(shapes.output, output_layout, dtype));
  }
  return kernel;
}

absl::Status Conv2dCpu::BuildPrimitives() {
  return GuardDnnl("conv2d: building primitives", [&]() -> absl::Status {
    // Activations exactly in the caller's layouts (never `any`, but for the few-channel layers below): a
    // primitive that picked another would cost a reorder of x, y, dy or dx on every call. Only
    // the weights, plain in the parameter buffer, are left to oneDNN and bridged.
    const memory::desc src = ActivationDesc(shapes_.input, input_layout_, dtype_),
                       dst = ActivationDesc(shapes_.output, output_layout_, dtype_),
                       weights = AnyLayout(shapes_.weight, dtype_);
    // The weight gradient is f32 whatever the activations are: it goes to the f32 store.
    const memory::desc diff_weights = AnyLayout(shapes_.weight);
    // Bias stays plain [K]: it is tiny, and every implementation accepts it so.
    const memory::desc bias = attrs_.bias ? PlainDesc(shapes_.bias) : memory::desc();
    const memory::dims strides = {attrs_.stride[0], attrs_.stride[1]};
    const memory::dims padding = {attrs_.padding[0], attrs_.padding[1]};
    // Direct convolution: Winograd could be faster on some 3x3 layers, but it changes the
    // numerics and oneDNN has no Winograd backward-weights on this CPU.
    const algorithm direct = algorithm::convolution_direct;
    dnnl::primitive_attr fused;
    if (attrs_.fuse_relu) {
      dnnl::post_ops relu;
      relu.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
      fused.set_post_ops(relu);
    }
    // Between plain activations of few input channels (LeNet-5's 1 -> 6 and 6 -> 16), oneDNN has
    // only im2col + GEMM for plain NCHW, which spends 3-10x longer per pass than its direct
    // kernels in other layouts (6 -> 16, batch 64, one AVX-512 thread: forward 1040 us against
    // 166 us on a blocked output, backward-data 1020 against 480 and backward-weights 1200
    // against 240 in NHWC). These activations are small next to the work, so each pass runs in
    // the layouts that have a direct kernel and the bridges reorder x, y, dy and dx (10-30 us
    // each). Which layouts is a fixed function of the shapes (and of the CPU's kernels: a pass
    // that would land on oneDNN's reference kernel keeps the plain layouts and its GEMM).
    const bool few_plain_channels = dtype_ == DType::kF32 &&
                                    input_layout_ == ActivationLayout::kPlain &&
                                    output_layout_ == ActivationLayout::kPlain &&
                                    shapes_.input.dim(1) < 16;
    // A stem over a 1-3 channel image: forward and backward-weights on the blocked output the
    // forward chooses. Its backward-data keeps the exact layouts (no direct kernel reads so few
    // channels; a stem's input rarely needs a gradient).
    const bool stem = few_plain_channels && shapes_.input.dim(1) < 4;
    const memory::desc nhwc_src = ActivationDesc(shapes_.input, ActivationLayout::kChannelsLast),
                       nhwc_dst = ActivationDesc(shapes_.output, ActivationLayout::kChannelsLast);
    auto make_forward = [&](const memory::desc& chosen_dst) {
      return dnnl::convolution_forward::primitive_desc(
          {prop_kind::forward_training, direct, src, weights, bias, chosen_dst, strides, padding,
           padding},
          fused, Engine());
    };
    dnnl::convolution_forward::primitive_desc forward_pd =
        make_forward(few_plain_channels ? AnyLayout(shapes_.output) : dst);
    if (IsReferenceKernel(forward_pd)) forward_pd = make_forward(dst);
    auto make_backward_data = [&](const memory::desc& diff_src, const memory::desc& diff_dst) {
      return dnnl::convolution_backward_data::primitive_desc(
          {direct, diff_src, weights, diff_dst, strides, padding, padding}, Engine(), forward_pd);
    };
    dnnl::convolution_backward_data::primitive_desc backward_data_pd =
        few_plain_channels && !stem ? make_backward_data(nhwc_src, nhwc_dst)
                                    : make_backward_data(src, dst);
    if (IsReferenceKernel(backward_data_pd)) backward_data_pd = make_backward_data(src, dst);
    auto make_backward_weights = [&](const memory::desc& chosen_src,
                                     const memory::desc& diff_dst) {
      return dnnl::convolution_backward_weights::primitive_desc(
          {direct, chosen_src, diff_weights, bias, diff_dst, strides, padding, padding}, Engine(),
          forward_pd);
    };
    dnnl::convolution_backward_weights::primitive_desc backward_weights_pd =
        !few_plain_channels ? make_backward_weights(src, dst)
        : stem              ? make_backward_weights(src, forward_pd.dst_desc())
                            : make_backward_weights(nhwc_src, nhwc_dst);
    // Where the choice above lands on oneDNN's reference kernel, the first of these layouts whose
    // kernel is not the reference wins, bridged like the few-channel layers': plain, then
    // channels-last activations (GEMM-based kernels read both). A stem from a 1-channel plain
    // image into nChw8c has no direct backward-weights kernel on AVX2, and the reference one took
    // about 110 ms of a 340 ms ResNet-20 step (batch 32), against 0.6-1.6 ms for GEMM and a
    // reorder of dy. If every one is the reference, the exact layouts at least need no bridge.
    const memory::desc plain_src = ActivationDesc(shapes_.input, ActivationLayout::kPlain, dtype_),
                       plain_dst = ActivationDesc(shapes_.output, ActivationLayout::kPlain, dtype_);
    for (const auto& [chosen_src, diff_dst] :
         {std::pair{plain_src, plain_dst}, std::pair{nhwc_src, nhwc_dst}, std::pair{src, dst}}) {
      if (!IsReferenceKernel(backward_weights_pd)) break;
      backward_weights_pd = make_backward_weights(chosen_src, diff_dst);
    }
    RETURN_IF_ERROR(passes_.Build("conv2d",
                                  {shapes_.input, shapes_.weight, shapes_.bias, shapes_.output},
                                  attrs_.bias, forward_pd, backward_data_pd, backward_weights_pd,
                                  {.src = src, .dst = dst, .dtype = dtype_}));
    return absl::OkStatus();
  });
}

absl::Status Conv2dCpu::RequireFusedRelu() const {
  if (attrs_.fuse_relu) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "conv2d fused relu backward: the kernel was built without fuse_relu");
}

absl::Status Conv2dCpu::FusedReluBackward(const Tensor& y, const Tensor& dy, Tensor& dz) {
  RETURN_IF_ERROR(RequireFusedRelu());
  return relu_->Backward(y, dy, dz);
}

absl::Status Conv2dCpu::FusedReluBackwardNative(const memory& dst, const memory& diff_dst,
                                                const memory& diff_conv) {
  RETURN_IF_ERROR(RequireFusedRelu());
  return relu_->BackwardNative(dst, diff_dst, diff_conv);
}

}  // namespace ald::cpu
