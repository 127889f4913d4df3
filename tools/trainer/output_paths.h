// Refuses, before any step is trained, an output the run could only fail to write later: a
// metrics file, summary, trace or checkpoint directory whose directory does not exist or cannot
// be written. (Without it, a typo in --metrics surfaced at the first evaluation, an epoch in.)
#pragma once

#include "absl/status/status.h"
#include "tools/trainer/train_config.h"

namespace ald {

// Creates --checkpoint_dir if needed (the first checkpoint would), and checks by creating and
// removing a file that each output's directory takes new files. InvalidArgument naming the
// flag, the directory and what was expected otherwise.
absl::Status CheckOutputPaths(const TrainConfig& config);

}  // namespace ald
