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
    // each). Which layouts is a fixed function of the shapes (and of the CPU's kernels: see the
    // fallbacks below).
    const bool few_plain_channels = dtype_ == DType::kF32 &&
                                    input_layout_ == ActivationLayout::kPlain &&
                                    output_layout_ == ActivationLayout::kPlain &&
                                    shapes_.input.dim(1) < 16;
    // A stem over a 1-3 channel image: forward and backward-weights on the blocked output the
    // forward chooses.
    const bool stem = few_plain_channels && shapes_.input.dim(1) < 4;
    const memory::desc nhwc_src =
                           ActivationDesc(shapes_.input, ActivationLayout::kChannelsLast, dtype_),
                       nhwc_dst =
                           ActivationDesc(shapes_.output, ActivationLayout::kChannelsLast, dtype_),
                       plain_src = ActivationDesc(shapes_.input, ActivationLayout::kPlain, dtype_),
                       plain_dst = ActivationDesc(shapes_.output, ActivationLayout::kPlain, dtype_),
                       any_src = AnyLayout(shapes_.input, dtype_),
                       any_dst = AnyLayout(shapes_.output, dtype_);
    // Each pass takes the first of its layout pairs whose kernel is not oneDNN's reference (a
    // plain loop, 10-1000x slower), bridged like the few-channel layers'; the exact layouts come
    // last, since if every kernel is the reference they at least need no bridge. After each
    // pass's preferred pair comes `any` for both activations, with which oneDNN picks a layout
    // of its own fastest kernel. Found by tests/no_reference_kernels_test.sh: LeNet-5's 6 -> 16
    // layer in bf16 (NHWC input, plain output) ran forward and backward-data on the reference
    // kernel, 0.1-2.6 ms a call at batch 8 where a jit kernel takes microseconds.
    auto make_forward = [&](const memory::desc& chosen_src, const memory::desc& chosen_dst) {
      return dnnl::convolution_forward::primitive_desc(
          {prop_kind::forward_training, direct, chosen_src, weights, bias, chosen_dst, strides,
           padding, padding},
          fused, Engine());
    };
    const dnnl::convolution_forward::primitive_desc forward_pd = FirstNonReference(
        make_forward, {{src, few_plain_channels ? any_dst : dst},
                       {any_src, any_dst},
                       {src, dst}});
    auto make_backward_data = [&](const memory::desc& diff_src, const memory::desc& diff_dst) {
      return dnnl::convolution_backward_data::primitive_desc(
          {direct, diff_src, weights, diff_dst, strides, padding, padding}, Engine(), forward_pd);
    };
    // A stem's backward-data prefers the exact layouts (no direct kernel reads so few channels;
    // training never runs it, as an image needs no gradient, but a caller may).
    const dnnl::convolution_backward_data::primitive_desc backward_data_pd = FirstNonReference(
        make_backward_data,
        {few_plain_channels && !stem ? std::pair{nhwc_src, nhwc_dst} : std::pair{src, dst},
         {any_src, any_dst},
         {src, dst}});
    auto make_backward_weights = [&](const memory::desc& chosen_src,
                                     const memory::desc& diff_dst) {
      return dnnl::convolution_backward_weights::primitive_desc(
          {direct, chosen_src, diff_weights, bias, diff_dst, strides, padding, padding}, Engine(),
          forward_pd);
    };
    // After the preferred pair: plain, then channels-last activations (GEMM-based kernels read
    // both). A stem from a 1-channel plain image into nChw8c has no direct backward-weights
    // kernel on AVX2, and the reference one took about 110 ms of a 340 ms ResNet-20 step (batch
    // 32), against 0.6-1.6 ms for GEMM and a reorder of dy.
    const dnnl::convolution_backward_weights::primitive_desc backward_weights_pd =
        FirstNonReference(make_backward_weights,
                          {!few_plain_channels ? std::pair{src, dst}
                           : stem              ? std::pair{src, forward_pd.dst_desc()}
                                               : std::pair{nhwc_src, nhwc_dst},
                           {plain_src, plain_dst},
                           {nhwc_src, nhwc_dst},
                           {any_src, any_dst},
                           {src, dst}});
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
