#include "models/vgg.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/model_builder.h"

namespace ald {
namespace {

constexpr int64_t kPool = 0;  // a max-pool in the configuration tables

// Simonyan & Zisserman's configurations A, B and D.
const std::map<int, std::vector<int64_t>>& Configurations() {
  static const auto* configurations = new std::map<int, std::vector<int64_t>>{
      {11, {64, kPool, 128, kPool, 256, 256, kPool, 512, 512, kPool, 512, 512, kPool}},
      {13, {64, 64, kPool, 128, 128, kPool, 256, 256, kPool, 512, 512, kPool, 512, 512, kPool}},
      {16, {64, 64, kPool, 128, 128, kPool, 256, 256, 256, kPool, 512, 512, 512, kPool, 512, 512,
            512, kPool}},
  };
  return *configurations;
}

}  // namespace

absl::StatusOr<ModelGraph> BuildVgg(int depth, const ModelOptions& options) {
  auto found = Configurations().find(depth);
  if (found == Configurations().end()) {
    return absl::InvalidArgumentError(absl::StrCat("vgg", depth, ": VGG depth must be 11, 13 or 16"));
  }
  ModelBuilder m(absl::StrCat("vgg", depth), options.input_shape());
  ValueId x = m.input();
  int conv = 0, pool = 0;
  for (int64_t width : found->second) {
    if (width == kPool) {
      x = m.MaxPool(x, 2, 2, 0, absl::StrCat("pool", ++pool));
      continue;
    }
    ModelBuilder::Scope scope = m.Enter(absl::StrCat("conv", ++conv));
    x = m.Relu(m.BatchNorm(m.Conv(x, {.out = width, .kernel = 3, .padding = 1, .bias = false})));
  }
  return m.Finish(m.Linear(m.Flatten(x), options.classes));
}

}  // namespace ald
