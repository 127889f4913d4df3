// SGD with momentum, Nesterov and weight decay on a flat f32 parameter buffer (or one bucket of
// it), with exactly torch.optim.SGD's update (dampening 0): the local step of every algorithm.
#pragma once

#include <span>

#include "absl/status/status.h"

namespace ald::cpu {

struct SgdConfig {
  float lr = 0.1f;
  float momentum = 0.0f;  // in [0, 1); 0 disables the momentum buffer
  bool nesterov = false;  // requires momentum > 0, as in PyTorch
  float weight_decay = 0.0f;
};

// InvalidArgument naming the offending field, or OK.
absl::Status ValidateSgdConfig(const SgdConfig& config);

// One step, per element:
//   g ← g + wd·x;  buf ← m·buf + g;  g ← g + m·buf (Nesterov) or g ← buf;  x ← x − lr·g.
// `momentum` is the buffer: params.size() floats, or ignored (may be empty) when
// config.momentum is 0. Start it at zero: PyTorch's first step sets buf ← g, and m·0 + g is
// exactly g, so a zeroed buffer reproduces PyTorch's trajectory with no "initialised" flag.
// `grads` is read only. The three spans must not overlap.
absl::Status SgdStep(const SgdConfig& config, std::span<float> params,
                     std::span<const float> grads, std::span<float> momentum);

// g ← g + wd·x: the weight decay of a step whose base is not x (adapt-with-combine steps from
// the neighbours' average, after that average has replaced x); then SgdStep with wd = 0 gives
// exactly the bits of SgdStep with wd on the same x. The spans must have equal sizes and not
// overlap.
absl::Status AddWeightDecay(float weight_decay, std::span<const float> params,
                            std::span<float> grads);

}  // namespace ald::cpu
