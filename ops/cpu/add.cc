#include "ops/cpu/add.h"

#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

absl::StatusOr<std::unique_ptr<AddCpu>> AddCpu::Create(const Shape& shape, const AddAttrs& attrs,
                                                       ActivationLayout layout, DType dtype) {
  RETURN_IF_ERROR(CheckLayout("add", shape, layout));
  auto kernel = std::unique_ptr<AddCpu>(new AddCpu());
  kernel->shape_ = shape;
  kernel->attrs_ = attrs;
  kernel->dtype_ = dtype;
  RETURN_IF_ERROR(GuardDnnl("add: building primitives", [&]() -> absl::Status {
    kernel->desc_ = ActivationDesc(shape, layout, dtype);
    dnnl::primitive_attr primitive_attr;
    if (attrs.fuse_relu) {
      dnnl::post_ops relu;
      relu.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      primitive_attr.set_post_ops(relu);
    }
    dnnl::binary::primitive_desc forward_pd(
        {dnnl::algorithm::binary_add, kernel->desc_, kernel->desc_, kernel->desc_}, primitive_attr,
        Engine());
    kernel->forward_ = dnnl::binary(forward_pd);
    return absl::OkStatus();
  }));
  if (attrs.fuse_relu) {
    ASSIGN_OR_RETURN(kernel->relu_, ReluCpu::Create(shape, layout, dtype));
  }
  return kernel;
}

absl::Status AddCpu::Forward(const Tensor& a, const Tensor& b, Tensor& y) {
  RETURN_IF_ERROR(CheckTensor("add forward", "a", a, shape_, dtype_));
  RETURN_IF_ERROR(CheckTensor("add forward", "b", b, shape_, dtype_));
  RETURN_IF_ERROR(CheckTensor("add forward", "y", y, shape_, dtype_));
  return GuardDnnl("add forward", [&] {
    forward_.execute(Stream(), {{DNNL_ARG_SRC_0, MemoryAs(desc_, a)},
                                {DNNL_ARG_SRC_1, MemoryAs(desc_, b)},
                                {DNNL_ARG_DST, MemoryAs(desc_, y)}});
    return absl::OkStatus();
  });
}

absl::Status AddCpu::Backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  if (!attrs_.fuse_relu) {
    return absl::FailedPreconditionError(
        "add backward: without fuse_relu the gradient of both inputs is dy itself; alias it");
  }
  // The ReLU kernel checks the tensors, but its messages would name relu.
  RETURN_IF_ERROR(CheckTensor("add backward", "y", y, shape_, dtype_));
  RETURN_IF_ERROR(CheckTensor("add backward", "dy", dy, shape_, dtype_));
  RETURN_IF_ERROR(CheckTensor("add backward", "dx", dx, shape_, dtype_));
  return relu_->Backward(y, dy, dx);
}

}  // namespace ald::cpu
