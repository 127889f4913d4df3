#include "ops/cpu/global_avgpool.h"

#include "core/status.h"
#include "ops/global_avgpool.h"

namespace ald::cpu {

absl::StatusOr<std::unique_ptr<GlobalAvgPoolCpu>> GlobalAvgPoolCpu::Create(
    const Shape& input, ActivationLayout layout, DType dtype) {
  auto kernel = std::unique_ptr<GlobalAvgPoolCpu>(new GlobalAvgPoolCpu());
  ASSIGN_OR_RETURN(kernel->output_, GlobalAvgPoolShape(input));
  const Pool2dWindow whole_plane{
      .kernel = {input[2], input[3]}, .stride = {input[2], input[3]}, .padding = {0, 0}};
  ASSIGN_OR_RETURN(
      kernel->pooling_,
      PoolingPrimitives::Create("global_avgpool", dnnl::algorithm::pooling_avg_exclude_padding,
                                input, kernel->output_, whole_plane, layout, dtype));
  return kernel;
}

absl::Status GlobalAvgPoolCpu::Forward(const Tensor& x, Tensor& y) {
  return pooling_.Forward(x, y, nullptr);
}

absl::Status GlobalAvgPoolCpu::Backward(const Tensor& dy, Tensor& dx) {
  return pooling_.Backward(dy, dx, nullptr);
}

}  // namespace ald::cpu
