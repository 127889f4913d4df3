// The command-line flags of the training program, one per TrainConfig field (defined in
// train_flags.inc). Linking this library defines the flags; the trainer library itself does not,
// so that tests and other programs can use Train() without them.
#pragma once

#include "tools/trainer/train_config.h"

namespace ald {

// The parsed flags (after absl::ParseCommandLine) as a TrainConfig.
TrainConfig ConfigFromFlags();

}  // namespace ald
