// Everything a training run is configured by, with validation whose errors name the flag and
// what was expected. The fields, their flags and their checks are one table: train_flags.inc.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"

namespace ald {

// train_flags.inc's column saying whether checkpoints store a flag.
inline constexpr bool kCheckpointed = true;
inline constexpr bool kNotCheckpointed = false;

struct TrainConfig {
#define TRAIN_FLAG(type, flag, field, default_value, ...) type field = default_value;
#include "tools/trainer/train_flags.inc"

  // The flags marked kCheckpointed, as strings, stored in checkpoints.
  std::map<std::string, std::string> AsFlags() const;
};

// How many relabelled graph copies the topology cycles through (--graphs; 0 picks the
// algorithm's default: AL-DSGD's authors use 2, the baselines 1, so that a symmetric comparison
// sets it explicitly for all).
int GraphCopies(const TrainConfig& config);

absl::Status ValidateConfig(const TrainConfig& config);

}  // namespace ald
