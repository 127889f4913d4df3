#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "comm/algorithm.h"
#include "comm/algorithm_factories.h"

namespace ald {
namespace {

using Factory = std::function<absl::StatusOr<std::unique_ptr<Algorithm>>(const AlgorithmContext&)>;

const std::map<std::string, Factory>& Factories() {
  static const auto* factories = new std::map<std::string, Factory>{
      {"allreduce", MakeAllReduceSgd}, {"dpsgd", MakeDpsgd}, {"matcha", MakeMatchaSgd},
      {"aldsgd", MakeAldsgd},          {"easgd", MakeEasgd}, {"lsgd", MakeLsgd},
      {"adpsgd", MakeAdpsgd},
  };
  return *factories;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Algorithm>> CreateAlgorithm(const std::string& name,
                                                           const AlgorithmContext& context) {
  auto found = Factories().find(name);
  if (found == Factories().end()) {
    return absl::InvalidArgumentError(absl::StrCat("--algo=", name, ": expected one of ",
                                                   absl::StrJoin(AlgorithmNames(), ", ")));
  }
  if (context.comm == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": no communicator"));
  }
  return found->second(context);
}

std::vector<std::string> AlgorithmNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Factories()) names.push_back(name);
  return names;
}

}  // namespace ald
