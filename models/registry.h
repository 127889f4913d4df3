// Models by name ("resnet20", "vgg11", "lenet5", ...), for the training binary and benchmarks;
// a program adds its own models with RegisterModel or a static ModelRegistration.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "models/model_options.h"

namespace ald {

// Builds a model's forward graph for `options` with the DSL (graph/model_builder.h).
using ModelBuildFn = std::function<absl::StatusOr<ModelGraph>(const ModelOptions&)>;

absl::StatusOr<ModelGraph> BuildModel(const std::string& name, const ModelOptions& options);
std::vector<std::string> ModelNames();  // built-in and registered, sorted

// Adds a model under `name`. AlreadyExists if the name is taken (built-in or registered), and
// InvalidArgument for an empty name or builder; the registry is unchanged then.
absl::Status RegisterModel(const std::string& name, ModelBuildFn build);

// Registers a model when the program starts, from a namespace-scope object in the model's file:
//   const ald::ModelRegistration kMyCnn("my_cnn", BuildMyCnn);
// A failed registration cannot be reported before main(), so the name is then marked and
// BuildModel(name) returns the error (e.g. two models registered under one name).
// The object's file must be linked in: put it in the cc_binary's srcs, or in a cc_library with
// alwayslink = True.
class ModelRegistration {
 public:
  ModelRegistration(const std::string& name, ModelBuildFn build);
};

}  // namespace ald
