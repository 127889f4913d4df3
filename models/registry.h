// Models by name ("resnet20", "vgg11", "lenet5", ...), for the training binary and benchmarks.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "models/model_options.h"

namespace ald {

absl::StatusOr<ModelGraph> BuildModel(const std::string& name, const ModelOptions& options);
std::vector<std::string> ModelNames();

}  // namespace ald
