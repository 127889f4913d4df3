#include "ops/cpu/pooling.h"

#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

using dnnl::prop_kind;

absl::StatusOr<PoolingPrimitives> PoolingPrimitives::Create(const std::string& op,
                                                            dnnl::algorithm algorithm,
                                                            const Shape& input, const Shape& output,
                                                            const Pool2dWindow& window,
                                                            ActivationLayout layout,
                                                            DType dtype) {
  RETURN_IF_ERROR(CheckLayout(op, input, layout));
  ASSIGN_OR_RETURN(const Shape pooled, Pool2dOutputShape(op, input, window));
  if (pooled.num_elements() != output.num_elements()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": output ", output.ToString(), " does not hold the pooled ", pooled.ToString()));
  }
  PoolingPrimitives pooling;
  pooling.op_ = op;
  pooling.input_ = input;
  pooling.output_ = output;
  pooling.dtype_ = dtype;
  RETURN_IF_ERROR(GuardDnnl(absl::StrCat(op, ": building primitives"), [&]() -> absl::Status {
    // `pooled` has the input's channels, so a layout valid for the input is valid for it.
    pooling.input_desc_ = ActivationDesc(input, layout, dtype);
    pooling.output_desc_ = ActivationDesc(pooled, layout, dtype);
    const dnnl::memory::dims strides(window.stride.begin(), window.stride.end());
    const dnnl::memory::dims kernel(window.kernel.begin(), window.kernel.end());
    // Symmetric padding: oneDNN floors (H + 2p - k) / s like our shape rule, so the last
    // window never needs more right padding than p.
    const dnnl::memory::dims padding(window.padding.begin(), window.padding.end());
    auto forward_desc = [&](prop_kind kind) {
      return dnnl::pooling_forward::desc(kind, algorithm, pooling.input_desc_, pooling.output_desc_,
                                         strides, kernel, padding, padding);
    };
    dnnl::pooling_forward::primitive_desc forward_pd(forward_desc(prop_kind::forward_training),
                                                     Engine());
    dnnl::pooling_forward::primitive_desc inference_pd(forward_desc(prop_kind::forward_inference),
                                                       Engine());
    dnnl::pooling_backward::primitive_desc backward_pd(
        {algorithm, pooling.input_desc_, pooling.output_desc_, strides, kernel, padding, padding},
        Engine(), forward_pd);
    pooling.workspace_desc_ = forward_pd.workspace_desc();
    pooling.forward_ = dnnl::pooling_forward(forward_pd);
    pooling.forward_inference_ = dnnl::pooling_forward(inference_pd);
    pooling.backward_ = dnnl::pooling_backward(backward_pd);
    return absl::OkStatus();
  }));
  return pooling;
}

Shape PoolingPrimitives::workspace_shape() const {
  const int64_t bytes = static_cast<int64_t>(workspace_desc_.get_size());
  return Shape{(bytes + 3) / 4};
}

absl::Status PoolingPrimitives::CheckWorkspace(const std::string& what,
                                               const Tensor* workspace) const {
  if (!has_workspace()) return absl::OkStatus();
  if (workspace == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": a workspace of i32", workspace_shape().ToString(), " is required"));
  }
  return CheckTensor(what, "workspace", *workspace, workspace_shape(), DType::kI32);
}

absl::Status PoolingPrimitives::Forward(const Tensor& x, Tensor& y, Tensor* workspace) {
  const std::string what = absl::StrCat(op_, " forward");
  RETURN_IF_ERROR(CheckTensor(what, "x", x, input_, dtype_));
  RETURN_IF_ERROR(CheckTensor(what, "y", y, output_, dtype_));
  RETURN_IF_ERROR(CheckWorkspace(what, workspace));
  return GuardDnnl(what, [&] {
    std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, MemoryAs(input_desc_, x)},
                                                  {DNNL_ARG_DST, MemoryAs(output_desc_, y)}};
    if (has_workspace()) args[DNNL_ARG_WORKSPACE] = MemoryAs(workspace_desc_, *workspace);
    forward_.execute(Stream(), args);
    return absl::OkStatus();
  });
}

absl::Status PoolingPrimitives::ForwardInference(const Tensor& x, Tensor& y) {
  const std::string what = absl::StrCat(op_, " forward (inference)");
  RETURN_IF_ERROR(CheckTensor(what, "x", x, input_, dtype_));
  RETURN_IF_ERROR(CheckTensor(what, "y", y, output_, dtype_));
  return GuardDnnl(what, [&] {
    forward_inference_.execute(Stream(), {{DNNL_ARG_SRC, MemoryAs(input_desc_, x)},
                                          {DNNL_ARG_DST, MemoryAs(output_desc_, y)}});
    return absl::OkStatus();
  });
}

absl::Status PoolingPrimitives::Backward(const Tensor& dy, Tensor& dx, const Tensor* workspace) {
  const std::string what = absl::StrCat(op_, " backward");
  RETURN_IF_ERROR(CheckTensor(what, "dy", dy, output_, dtype_));
  RETURN_IF_ERROR(CheckTensor(what, "dx", dx, input_, dtype_));
  RETURN_IF_ERROR(CheckWorkspace(what, workspace));
  return GuardDnnl(what, [&] {
    std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_DIFF_DST, MemoryAs(output_desc_, dy)},
                                                  {DNNL_ARG_DIFF_SRC, MemoryAs(input_desc_, dx)}};
    if (has_workspace()) args[DNNL_ARG_WORKSPACE] = MemoryAs(workspace_desc_, *workspace);
    backward_.execute(Stream(), args);
    return absl::OkStatus();
  });
}

}  // namespace ald::cpu
