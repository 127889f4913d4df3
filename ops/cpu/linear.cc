#include "ops/cpu/linear.h"

#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

using dnnl::memory;

absl::StatusOr<std::unique_ptr<LinearCpu>> LinearCpu::Create(const Shape& input,
                                                             const Shape& weight,
                                                             const LinearAttrs& attrs,
                                                             DType dtype) {
  ASSIGN_OR_RETURN(LinearShapes shapes, InferLinear(input, weight));
  auto kernel = std::unique_ptr<LinearCpu>(new LinearCpu());
  kernel->shapes_ = shapes;
  RETURN_IF_ERROR(GuardDnnl("linear: building primitives", [&]() -> absl::Status {
    // oneDNN 2.6.3's AMX bf16 backward-data (blocked weights) writes garbage (1e37) for narrow
    // inputs with many outputs (<= 16 input features and 1000 outputs; 40, 100 and 1024 were
    // right). Plain weights select its GEMM implementation, right for every size probed.
    const bool amx_bug = dtype == DType::kBF16 && shapes.weight[1] <= 16;
    const memory::desc src = AnyLayout(shapes.input, dtype),
                       weights = amx_bug ? PlainDesc(shapes.weight, dtype)
                                         : AnyLayout(shapes.weight, dtype),
                       dst = AnyLayout(shapes.output, dtype);
    // The weight gradient is f32 whatever the activations are: it goes to the f32 store.
    const memory::desc diff_weights = AnyLayout(shapes.weight);
    const memory::desc bias = attrs.bias ? PlainDesc(shapes.bias) : memory::desc();
    dnnl::inner_product_forward::primitive_desc forward_pd(
        {dnnl::prop_kind::forward_training, src, weights, bias, dst}, Engine());

    dnnl::inner_product_backward_data::primitive_desc backward_data_pd({src, weights, dst},
                                                                       Engine(), forward_pd);

    dnnl::inner_product_backward_weights::primitive_desc backward_weights_pd(
        {src, diff_weights, bias, dst}, Engine(), forward_pd);
    return kernel->passes_.Build("linear",
                                 {shapes.input, shapes.weight, shapes.bias, shapes.output},
                                 attrs.bias, forward_pd, backward_data_pd, backward_weights_pd,
                                 {.src = {}, .dst = {}, .dtype = dtype});
  }));
  return kernel;
}

}  // namespace ald::cpu
