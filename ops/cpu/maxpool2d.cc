#include "ops/cpu/maxpool2d.h"

#include "core/status.h"

namespace ald::cpu {

absl::StatusOr<std::unique_ptr<MaxPool2dCpu>> MaxPool2dCpu::Create(const Shape& input,
                                                                   const MaxPool2dAttrs& attrs,
                                                                   ActivationLayout layout,
                                                                   DType dtype) {
  auto kernel = std::unique_ptr<MaxPool2dCpu>(new MaxPool2dCpu());
  ASSIGN_OR_RETURN(kernel->output_, MaxPool2dShape(input, attrs));
  ASSIGN_OR_RETURN(kernel->pooling_,
                   PoolingPrimitives::Create("maxpool2d", dnnl::algorithm::pooling_max, input,
                                             kernel->output_, attrs, layout, dtype));
  return kernel;
}

absl::Status MaxPool2dCpu::Forward(const Tensor& x, Tensor& y, Tensor& workspace) {
  return pooling_.Forward(x, y, &workspace);
}

absl::Status MaxPool2dCpu::ForwardInference(const Tensor& x, Tensor& y) {
  return pooling_.ForwardInference(x, y);
}

absl::Status MaxPool2dCpu::Backward(const Tensor& dy, const Tensor& workspace, Tensor& dx) {
  return pooling_.Backward(dy, dx, &workspace);
}

}  // namespace ald::cpu
