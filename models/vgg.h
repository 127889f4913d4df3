// VGG-11/13/16 with batch norm, CIFAR variant: 3x3 convolutions (no bias: batch norm follows),
// five max-pools, and a single Linear(512, classes) classifier.
#pragma once

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "models/model_options.h"

namespace ald {

absl::StatusOr<ModelGraph> BuildVgg(int depth, const ModelOptions& options);  // 11, 13 or 16

}  // namespace ald
