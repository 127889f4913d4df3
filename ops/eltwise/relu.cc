// relu: y = max(x, 0); dx = dy where y > 0. The derivative reads y, so the forward may run in
// place (oneDNN's eltwise_relu_use_dst_for_bwd).
#include "ops/eltwise/registry.h"

namespace ald::eltwise {
namespace {

[[maybe_unused]] const bool registered = Register({
    .name = "relu",
    .saved = Saved::kOutput,
    .forward = [](double x) { return x > 0 ? x : 0.0; },
    .backward = [](double y, double dy) { return y > 0 ? dy : 0.0; },
    .onednn = dnnl::algorithm::eltwise_relu_use_dst_for_bwd,
});

}  // namespace
}  // namespace ald::eltwise
