#include "ops/cpu/avgpool2d.h"

#include "core/status.h"

namespace ald::cpu {

absl::StatusOr<std::unique_ptr<AvgPool2dCpu>> AvgPool2dCpu::Create(const Shape& input,
                                                                   const AvgPool2dAttrs& attrs,
                                                                   ActivationLayout layout,
                                                                   DType dtype) {
  auto kernel = std::unique_ptr<AvgPool2dCpu>(new AvgPool2dCpu());
  ASSIGN_OR_RETURN(kernel->output_, AvgPool2dShape(input, attrs));
  const dnnl::algorithm algorithm = attrs.count_include_pad
                                        ? dnnl::algorithm::pooling_avg_include_padding
                                        : dnnl::algorithm::pooling_avg_exclude_padding;
  ASSIGN_OR_RETURN(kernel->pooling_, PoolingPrimitives::Create("avgpool2d", algorithm, input,
                                                               kernel->output_, attrs.window,
                                                               layout, dtype));
  return kernel;
}

absl::Status AvgPool2dCpu::Forward(const Tensor& x, Tensor& y) {
  return pooling_.Forward(x, y, nullptr);
}

absl::Status AvgPool2dCpu::Backward(const Tensor& dy, Tensor& dx) {
  return pooling_.Backward(dy, dx, nullptr);
}

}  // namespace ald::cpu
