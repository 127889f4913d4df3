// SgdStep: validation on the host, then one fused kernel (kernels.cu).
#include "ops/cuda/sgd.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "ops/cuda/cuda_status.h"
#include "ops/cuda/kernels.h"

namespace ald::cuda {
namespace {

bool Overlap(const float* a, const float* b, int64_t n) {
  // std::less gives a total order on unrelated pointers, where `<` would be unspecified.
  return n > 0 && std::less<const float*>()(a, b + n) && std::less<const float*>()(b, a + n);
}

}  // namespace

absl::Status SgdStep(const cpu::SgdConfig& config, int64_t n, float* params, const float* grads,
                     float* momentum, cudaStream_t stream) {
  RETURN_IF_ERROR(cpu::ValidateSgdConfig(config));
  if (n < 0) return absl::InvalidArgumentError(absl::StrCat("sgd: length ", n));
  const bool has_momentum = config.momentum != 0;
  if (n > 0 && (params == nullptr || grads == nullptr || (has_momentum && momentum == nullptr))) {
    return absl::InvalidArgumentError(
        absl::StrCat("sgd: null buffer (params, grads", has_momentum ? ", momentum" : "", ")"));
  }
  if (Overlap(params, grads, n) ||
      (has_momentum && (Overlap(params, momentum, n) || Overlap(grads, momentum, n)))) {
    return absl::InvalidArgumentError("sgd: params, grads and momentum buffer overlap");
  }
  const kernels::MomentumKind kind = !has_momentum     ? kernels::MomentumKind::kNone
                                     : config.nesterov ? kernels::MomentumKind::kNesterov
                                                       : kernels::MomentumKind::kHeavyBall;
  RETURN_IF_CUDA_ERROR(kernels::SgdStep(n, config.lr, config.momentum, config.weight_decay, kind,
                                        params, grads, momentum, stream));
  return absl::OkStatus();
}

}  // namespace ald::cuda
