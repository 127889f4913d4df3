#include "ops/cpu/linear.h"

#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

using dnnl::memory;

absl::StatusOr<std::unique_ptr<LinearCpu>> LinearCpu::Create(const Shape& input,
                                                             const Shape& weight,
                                                             const LinearAttrs& attrs) {
  ASSIGN_OR_RETURN(LinearShapes shapes, InferLinear(input, weight));
  auto kernel = std::unique_ptr<LinearCpu>(new LinearCpu());
  kernel->shapes_ = shapes;
  RETURN_IF_ERROR(GuardDnnl("linear: building primitives", [&]() -> absl::Status {
    const memory::desc src = AnyLayout(shapes.input), weights = AnyLayout(shapes.weight),
                       dst = AnyLayout(shapes.output);
    const memory::desc bias = attrs.bias ? PlainDesc(shapes.bias) : memory::desc();
    dnnl::inner_product_forward::primitive_desc forward_pd(
        {dnnl::prop_kind::forward_training, src, weights, bias, dst}, Engine());
    dnnl::inner_product_backward_data::primitive_desc backward_data_pd({src, weights, dst},
                                                                       Engine(), forward_pd);
    dnnl::inner_product_backward_weights::primitive_desc backward_weights_pd(
        {src, weights, bias, dst}, Engine(), forward_pd);
    return kernel->passes_.Build("linear",
                                 {shapes.input, shapes.weight, shapes.bias, shapes.output},
                                 attrs.bias, forward_pd, backward_data_pd, backward_weights_pd);
  }));
  return kernel;
}

}  // namespace ald::cpu
