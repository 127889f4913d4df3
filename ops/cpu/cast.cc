#include "ops/cpu/cast.h"

#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

absl::StatusOr<std::unique_ptr<CastCpu>> CastCpu::Create(const Shape& shape,
                                                         ActivationLayout from_layout,
                                                         ActivationLayout to_layout, DType from,
                                                         DType to) {
  RETURN_IF_ERROR(CheckLayout("cast input", shape, from_layout));
  RETURN_IF_ERROR(CheckLayout("cast output", shape, to_layout));
  auto kernel = std::unique_ptr<CastCpu>(new CastCpu());
  kernel->shape_ = shape;
  kernel->from_ = from;
  kernel->to_ = to;
  RETURN_IF_ERROR(GuardDnnl("cast: building primitives", [&]() -> absl::Status {
    kernel->from_desc_ = ActivationDesc(shape, from_layout, from);
    kernel->to_desc_ = ActivationDesc(shape, to_layout, to);
    const dnnl::memory from_probe(kernel->from_desc_, Engine(), DNNL_MEMORY_NONE);
    const dnnl::memory to_probe(kernel->to_desc_, Engine(), DNNL_MEMORY_NONE);
    kernel->forward_ = dnnl::reorder(from_probe, to_probe);
    kernel->backward_ = dnnl::reorder(to_probe, from_probe);
    return absl::OkStatus();
  }));
  return kernel;
}

absl::Status CastCpu::Forward(const Tensor& x, Tensor& y) {
  RETURN_IF_ERROR(CheckTensor("cast forward", "x", x, shape_, from_));
  RETURN_IF_ERROR(CheckTensor("cast forward", "y", y, shape_, to_));
  return GuardDnnl("cast forward", [&] {
    forward_.execute(Stream(), {{DNNL_ARG_FROM, MemoryAs(from_desc_, x)},
                                {DNNL_ARG_TO, MemoryAs(to_desc_, y)}});
    return absl::OkStatus();
  });
}

absl::Status CastCpu::Backward(const Tensor& dy, Tensor& dx) {
  RETURN_IF_ERROR(CheckTensor("cast backward", "dy", dy, shape_, to_));
  RETURN_IF_ERROR(CheckTensor("cast backward", "dx", dx, shape_, from_));
  return GuardDnnl("cast backward", [&] {
    backward_.execute(Stream(), {{DNNL_ARG_FROM, MemoryAs(to_desc_, dy)},
                                 {DNNL_ARG_TO, MemoryAs(from_desc_, dx)}});
    return absl::OkStatus();
  });
}

}  // namespace ald::cpu
