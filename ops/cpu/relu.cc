#include "ops/cpu/relu.h"

#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

using dnnl::algorithm;
using dnnl::prop_kind;

absl::StatusOr<std::unique_ptr<ReluCpu>> ReluCpu::Create(const Shape& shape,
                                                         ActivationLayout layout, DType dtype) {
  RETURN_IF_ERROR(CheckLayout("relu", shape, layout));
  auto kernel = std::unique_ptr<ReluCpu>(new ReluCpu());
  kernel->shape_ = shape;
  kernel->dtype_ = dtype;
  RETURN_IF_ERROR(GuardDnnl("relu: building primitives", [&]() -> absl::Status {
    kernel->desc_ = ActivationDesc(shape, layout, dtype);
    const algorithm relu = algorithm::eltwise_relu_use_dst_for_bwd;
    dnnl::eltwise_forward::primitive_desc forward_pd(
        {prop_kind::forward_training, relu, kernel->desc_, 0.f, 0.f}, Engine());
    dnnl::eltwise_backward::primitive_desc backward_pd(
        {relu, kernel->desc_, kernel->desc_, 0.f, 0.f}, Engine(), forward_pd);
    kernel->forward_ = dnnl::eltwise_forward(forward_pd);
    kernel->backward_ = dnnl::eltwise_backward(backward_pd);
    return absl::OkStatus();
  }));
  return kernel;
}

absl::Status ReluCpu::Forward(const Tensor& x, Tensor& y) {
  RETURN_IF_ERROR(CheckTensor("relu forward", "x", x, shape_, dtype_));
  RETURN_IF_ERROR(CheckTensor("relu forward", "y", y, shape_, dtype_));
  return GuardDnnl("relu forward", [&] {
    forward_.execute(Stream(), {{DNNL_ARG_SRC, MemoryAs(desc_, x)}, {DNNL_ARG_DST, MemoryAs(desc_, y)}});
    return absl::OkStatus();
  });
}

absl::Status ReluCpu::Backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  RETURN_IF_ERROR(CheckTensor("relu backward", "y", y, shape_, dtype_));
  RETURN_IF_ERROR(CheckTensor("relu backward", "dy", dy, shape_, dtype_));
  RETURN_IF_ERROR(CheckTensor("relu backward", "dx", dx, shape_, dtype_));
  return BackwardNative(MemoryAs(desc_, y), MemoryAs(desc_, dy), MemoryAs(desc_, dx));
}

absl::Status ReluCpu::BackwardNative(const dnnl::memory& y, const dnnl::memory& dy,
                                     const dnnl::memory& dx) {
  return GuardDnnl("relu backward", [&] {
    backward_.execute(Stream(),
                      {{DNNL_ARG_DST, y}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_SRC, dx}});
    return absl::OkStatus();
  });
}

}  // namespace ald::cpu
