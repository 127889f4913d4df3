// The SGD step (momentum, Nesterov, weight decay; torch.optim.SGD with dampening 0, as
// ops/sgd.h documents) on a flat fp32 device buffer or one bucket of it.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "cuda_runtime_api.h"
#include "ops/sgd.h"

namespace ald::cuda {

// One step on n floats, enqueued on `stream`: bit for bit the CPU's cpu::SgdStep (the kernel
// rounds every product and sum separately, as the CPU loop does). `momentum` holds n floats
// (start at zero; see ops/sgd.h) or may be null when config.momentum is 0. Rejects a bad config
// (cpu::ValidateSgdConfig) and overlapping buffers.
absl::Status SgdStep(const cpu::SgdConfig& config, int64_t n, float* params, const float* grads,
                     float* momentum, cudaStream_t stream);

}  // namespace ald::cuda
