// ResNets for CIFAR-sized inputs: He et al.'s ResNet-20/32/56/110 (three stages of 16/32/64
// channels, 6n+2 layers) and ResNet-18 in its CIFAR variant (3x3 stem, no max-pool).
#pragma once

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "models/model_options.h"

namespace ald {

// depth = 6n + 2: 20, 32, 44, 56, 110, ...
absl::StatusOr<ModelGraph> BuildCifarResNet(int depth, const ModelOptions& options);
absl::StatusOr<ModelGraph> BuildResNet18(const ModelOptions& options);

}  // namespace ald
