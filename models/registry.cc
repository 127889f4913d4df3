#include "models/registry.h"

#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/lenet.h"
#include "models/resnet.h"
#include "models/vgg.h"

namespace ald {
namespace {

using Builder = std::function<absl::StatusOr<ModelGraph>(const ModelOptions&)>;

const std::map<std::string, Builder>& Registry() {
  static const auto* registry = [] {
    auto* models = new std::map<std::string, Builder>();
    for (int depth : {8, 14, 20, 32, 44, 56, 110}) {
      (*models)[absl::StrCat("resnet", depth)] = [depth](const ModelOptions& options) {
        return BuildCifarResNet(depth, options);
      };
    }
    (*models)["resnet18"] = BuildResNet18;
    for (int depth : {11, 13, 16}) {
      (*models)[absl::StrCat("vgg", depth)] = [depth](const ModelOptions& options) {
        return BuildVgg(depth, options);
      };
    }
    (*models)["lenet5"] = BuildLeNet5;
    (*models)["lenet"] = BuildLeNet5;
    return models;
  }();
  return *registry;
}

}  // namespace

absl::StatusOr<ModelGraph> BuildModel(const std::string& name, const ModelOptions& options) {
  auto found = Registry().find(name);
  if (found == Registry().end()) {
    return absl::NotFoundError(absl::StrCat("unknown model '", name, "'; known models: ",
                                            absl::StrJoin(ModelNames(), ", ")));
  }
  return found->second(options);
}

std::vector<std::string> ModelNames() {
  std::vector<std::string> names;
  for (const auto& [name, builder] : Registry()) names.push_back(name);
  return names;
}

}  // namespace ald
