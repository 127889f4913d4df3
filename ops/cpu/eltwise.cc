#include "ops/cpu/eltwise.h"

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

using dnnl::prop_kind;

absl::StatusOr<std::unique_ptr<EltwiseCpu>> EltwiseCpu::Create(const eltwise::Function& function,
                                                               const Shape& shape,
                                                               ActivationLayout layout,
                                                               DType dtype) {
  RETURN_IF_ERROR(CheckLayout(function.name, shape, layout));
  auto kernel = std::unique_ptr<EltwiseCpu>(new EltwiseCpu());
  kernel->function_ = &function;
  kernel->shape_ = shape;
  kernel->dtype_ = dtype;
  const std::string what = absl::StrCat(function.name, ": building primitives");
  RETURN_IF_ERROR(GuardDnnl(what, [&]() -> absl::Status {
    kernel->desc_ = ActivationDesc(shape, layout, dtype);
    const dnnl::algorithm algorithm = function.onednn;
    dnnl::eltwise_forward::primitive_desc forward_pd(
        {prop_kind::forward_training, algorithm, kernel->desc_, function.alpha, function.beta},
        Engine());
    dnnl::eltwise_backward::primitive_desc backward_pd(
        {algorithm, kernel->desc_, kernel->desc_, function.alpha, function.beta}, Engine(),
        forward_pd);
    kernel->forward_ = dnnl::eltwise_forward(forward_pd);
    kernel->backward_ = dnnl::eltwise_backward(backward_pd);
    return absl::OkStatus();
  }));
  return kernel;
}

absl::Status EltwiseCpu::Forward(const Tensor& x, Tensor& y) {
  const std::string what = absl::StrCat(function_->name, " forward");
  RETURN_IF_ERROR(CheckTensor(what, "x", x, shape_, dtype_));
  RETURN_IF_ERROR(CheckTensor(what, "y", y, shape_, dtype_));
  return GuardDnnl(what, [&] {
    forward_.execute(Stream(),
                     {{DNNL_ARG_SRC, MemoryAs(desc_, x)}, {DNNL_ARG_DST, MemoryAs(desc_, y)}});
    return absl::OkStatus();
  });
}

absl::Status EltwiseCpu::Backward(const Tensor& saved, const Tensor& dy, Tensor& dx) {
  const std::string what = absl::StrCat(function_->name, " backward");
  const bool from_output = function_->saved == eltwise::Saved::kOutput;
  RETURN_IF_ERROR(CheckTensor(what, from_output ? "y" : "x", saved, shape_, dtype_));
  RETURN_IF_ERROR(CheckTensor(what, "dy", dy, shape_, dtype_));
  RETURN_IF_ERROR(CheckTensor(what, "dx", dx, shape_, dtype_));
  const int saved_arg = from_output ? DNNL_ARG_DST : DNNL_ARG_SRC;
  return GuardDnnl(what, [&] {
    backward_.execute(Stream(), {{saved_arg, MemoryAs(desc_, saved)},
                                 {DNNL_ARG_DIFF_DST, MemoryAs(desc_, dy)},
                                 {DNNL_ARG_DIFF_SRC, MemoryAs(desc_, dx)}});
    return absl::OkStatus();
  });
}

}  // namespace ald::cpu
