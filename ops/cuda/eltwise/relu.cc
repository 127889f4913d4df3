// relu on cuDNN's activation: its backward gets y for x, as y > 0 exactly where x > 0.
#include "ops/cuda/eltwise/registry.h"

namespace ald::cuda::eltwise {
namespace {

[[maybe_unused]] const bool registered = Register({
    .name = "relu",
    .cudnn = true,
    .cudnn_mode = CUDNN_ACTIVATION_RELU,
    .cudnn_coef = 0.0,
});

}  // namespace
}  // namespace ald::cuda::eltwise
