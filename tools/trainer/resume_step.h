// Which step a resume starts from: the newest step for which every worker has a complete
// checkpoint. After a crash the workers' newest checkpoints may differ (6, 6, 5, 5 when a rank
// died while the others saved step 6); a synchronous algorithm needs all of them at one step.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/communicator.h"

namespace ald {

// `my_steps`: this worker's complete checkpoints, ascending (CheckpointSteps). Every worker
// calls it with its own list and gets the same answer; `comm` is null for a single worker. The
// agreement needs only all-reduces, so it works when each worker sees only its own directory.
// NotFound naming a worker when no step is common to all.
absl::StatusOr<int64_t> AgreeOnResumeStep(Communicator* comm, const std::vector<int64_t>& my_steps);

}  // namespace ald
