// Everything a training run is configured by, with validation whose errors name the flag and
// what was expected. The fields, their flags and their checks are one table: train_flags.inc.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ald {

// train_flags.inc's column saying whether checkpoints store a flag, and whether a resume must
// keep it: a run that changes the model, the data, the workers or how they communicate would
// restore state that means something else (a resume may change the optimisation's future:
// learning rate, momentum, schedule, epochs).
enum CheckpointRole : int {
  kNotCheckpointed = 0,
  kCheckpointed = 1,    // stored; a resume may change it
  kFixedOnResume = 2,   // stored; a resume with another value is refused
};

// --leader_loss: 0 for `batch`, BETA for `ema:BETA` (BETA in (0, 1)).
absl::StatusOr<double> ParseLeaderLoss(const std::string& text);

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

// InvalidArgument naming both values when `config` changes a kFixedOnResume flag that
// `checkpoint_flags` (a checkpoint's TrainingState::flags) stores; `file` names the checkpoint.
absl::Status CheckResumable(const TrainConfig& config,
                            const std::map<std::string, std::string>& checkpoint_flags,
                            const std::string& file);

}  // namespace ald
