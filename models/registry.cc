#include "models/registry.h"

#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/lenet.h"
#include "models/resnet.h"
#include "models/vgg.h"

namespace ald {
namespace {

std::map<std::string, ModelBuildFn> BuiltInModels() {
  std::map<std::string, ModelBuildFn> models;
  for (int depth : {8, 14, 20, 32, 44, 56, 110}) {
    models[absl::StrCat("resnet", depth)] = [depth](const ModelOptions& options) {
      return BuildCifarResNet(depth, options);
    };
  }
  models["resnet18"] = BuildResNet18;
  for (int depth : {11, 13, 16}) {
    models[absl::StrCat("vgg", depth)] = [depth](const ModelOptions& options) {
      return BuildVgg(depth, options);
    };
  }
  models["lenet5"] = BuildLeNet5;
  models["lenet"] = BuildLeNet5;
  return models;
}

// Written by registrations (possibly from static initialisers in other files, hence built on
// first use) and read by every worker thread, hence the lock.
struct Registry {
  std::mutex mutex;
  std::map<std::string, ModelBuildFn> models = BuiltInModels();
  std::map<std::string, absl::Status> failed;  // names whose static registration failed
};

Registry& TheRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

std::vector<std::string> NamesLocked(const Registry& registry) {
  std::vector<std::string> names;
  for (const auto& [name, build] : registry.models) names.push_back(name);
  return names;
}

}  // namespace

absl::StatusOr<ModelGraph> BuildModel(const std::string& name, const ModelOptions& options) {
  ModelBuildFn build;
  {
    Registry& registry = TheRegistry();
    std::lock_guard<std::mutex> lock(registry.mutex);
    if (auto failed = registry.failed.find(name); failed != registry.failed.end()) {
      return failed->second;
    }
    auto found = registry.models.find(name);
    if (found == registry.models.end()) {
      return absl::NotFoundError(absl::StrCat("unknown model '", name, "'; known models: ",
                                              absl::StrJoin(NamesLocked(registry), ", ")));
    }
    build = found->second;
  }
  return build(options);  // outside the lock: building a large model takes a while
}

std::vector<std::string> ModelNames() {
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  return NamesLocked(registry);
}

absl::Status RegisterModel(const std::string& name, ModelBuildFn build) {
  if (name.empty()) return absl::InvalidArgumentError("RegisterModel: the model name is empty");
  if (!build) {
    return absl::InvalidArgumentError(
        absl::StrCat("RegisterModel('", name, "'): the builder is empty"));
  }
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  if (!registry.models.emplace(name, std::move(build)).second) {
    return absl::AlreadyExistsError(absl::StrCat(
        "model '", name, "' is registered twice (a built-in model or another registration "
        "already has the name); rename one of them"));
  }
  return absl::OkStatus();
}

ModelRegistration::ModelRegistration(const std::string& name, ModelBuildFn build) {
  absl::Status status = RegisterModel(name, std::move(build));
  if (status.ok()) return;
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.failed.emplace(name, std::move(status));
}

}  // namespace ald
