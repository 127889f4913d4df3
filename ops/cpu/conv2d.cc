#include "ops/cpu/conv2d.h"

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
    // Activations exactly in the caller's layouts (never `any`, but for the stem below): a
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
    // A stem over a 1-3 channel image whose few output channels stay plain (LeNet-5's first
    // convolution: 1 -> 6): on plain NCHW output oneDNN has only im2col + GEMM, which spends
    // 3-9x longer on forward and backward-weights than its direct kernel on a blocked output. Here
    // the output's reorder to plain (6 channels) costs less than it saves, so forward and
    // backward-weights choose their own output layout and the bridges reorder y and dy.
    // Backward-data keeps the exact layout: it has no direct kernel for such a source (and a
    // stem's input rarely needs a gradient).
    const bool stem_with_plain_output = dtype_ == DType::kF32 &&
                                        input_layout_ == ActivationLayout::kPlain &&
                                        output_layout_ == ActivationLayout::kPlain &&
                                        shapes_.input.dim(1) < 4;
    const memory::desc chosen_dst = stem_with_plain_output ? AnyLayout(shapes_.output) : dst;
    dnnl::convolution_forward::primitive_desc forward_pd(
        {prop_kind::forward_training, direct, src, weights, bias, chosen_dst, strides, padding,
         padding},
        fused, Engine());
    dnnl::convolution_backward_data::primitive_desc backward_data_pd(
        {direct, src, weights, dst, strides, padding, padding}, Engine(), forward_pd);
    dnnl::convolution_backward_weights::primitive_desc backward_weights_pd(
        {direct, src, diff_weights, bias, forward_pd.dst_desc(), strides, padding, padding},
        Engine(), forward_pd);
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
