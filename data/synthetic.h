// The synthetic dataset behind LoadDataset("synthetic", ...): learnable, any shape, no files.
#pragma once

#include "absl/status/statusor.h"
#include "data/dataset.h"

namespace ald {

absl::StatusOr<Dataset> MakeSyntheticDataset(const SyntheticOptions& options, Split split);

}  // namespace ald
