// LeNet-5 (LeCun et al. 1998) with ReLU and max-pooling: conv5x5(6, pad 2) - pool - conv5x5(16)
// - pool - fc120 - fc84 - fc(classes); 61,706 parameters on 1x28x28 inputs.
#pragma once

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "models/model_options.h"

namespace ald {

absl::StatusOr<ModelGraph> BuildLeNet5(const ModelOptions& options);

}  // namespace ald
