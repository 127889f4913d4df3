#include "ops/cpu/conv2d.h"

#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

absl::StatusOr<std::unique_ptr<Conv2dCpu>> Conv2dCpu::Create(const Shape& input,
                                                             const Shape& weight,
                                                             const Conv2dAttrs& attrs) {
  ASSIGN_OR_RETURN(Conv2dShapes shapes, InferConv2d(input, weight, attrs));
  auto kernel = std::unique_ptr<Conv2dCpu>(new Conv2dCpu());
  kernel->shapes_ = shapes;
  kernel->attrs_ = attrs;
  RETURN_IF_ERROR(kernel->BuildPrimitives());
  if (attrs.fuse_relu) {
    ASSIGN_OR_RETURN(kernel->plain_relu_, ReluCpu::Create(shapes.output));
  }
  return kernel;
}

absl::Status Conv2dCpu::BuildPrimitives() {
  return GuardDnnl("conv2d: building primitives", [&]() -> absl::Status {
    const memory::desc src = AnyLayout(shapes_.input), weights = AnyLayout(shapes_.weight),
                       dst = AnyLayout(shapes_.output);
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
    dnnl::convolution_forward::primitive_desc forward_pd(
        {prop_kind::forward_training, direct, src, weights, bias, dst, strides, padding, padding},
        fused, Engine());
    dnnl::convolution_backward_data::primitive_desc backward_data_pd(
        {direct, src, weights, dst, strides, padding, padding}, Engine(), forward_pd);
    dnnl::convolution_backward_weights::primitive_desc backward_weights_pd(
        {direct, src, weights, bias, dst, strides, padding, padding}, Engine(), forward_pd);
    RETURN_IF_ERROR(passes_.Build("conv2d",
                                  {shapes_.input, shapes_.weight, shapes_.bias, shapes_.output},
                                  attrs_.bias, forward_pd, backward_data_pd, backward_weights_pd));
    if (attrs_.fuse_relu) {
      const algorithm relu = algorithm::eltwise_relu_use_dst_for_bwd;
      const memory::desc out = forward_pd.dst_desc();
      dnnl::eltwise_forward::primitive_desc relu_hint(
          {prop_kind::forward_training, relu, out, 0.f, 0.f}, Engine());
      relu_backward_ = dnnl::eltwise_backward(
          dnnl::eltwise_backward::primitive_desc({relu, out, out, 0.f, 0.f}, Engine(), relu_hint));
    }
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
  return plain_relu_->Backward(y, dy, dz);
}

absl::Status Conv2dCpu::FusedReluBackwardNative(const memory& dst, const memory& diff_dst,
                                                const memory& diff_conv) {
  RETURN_IF_ERROR(RequireFusedRelu());
  return GuardDnnl("conv2d fused relu backward", [&] {
    relu_backward_.execute(Stream(), {{DNNL_ARG_DST, dst},
                                      {DNNL_ARG_DIFF_DST, diff_dst},
                                      {DNNL_ARG_DIFF_SRC, diff_conv}});
    return absl::OkStatus();
  });
}

}  // namespace ald::cpu
