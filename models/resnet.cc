#include "models/resnet.h"

#include "absl/strings/str_cat.h"
#include "graph/model_builder.h"

namespace ald {
namespace {

// conv-bn-relu, conv-bn, plus the shortcut, then relu: the basic block of both families.
ValueId BasicBlock(ModelBuilder& m, ValueId x, int64_t out, int64_t stride,
                   ResNetShortcut shortcut) {
  ValueId y = m.Conv(x, {.out = out, .kernel = 3, .stride = stride, .padding = 1, .bias = false},
                     "conv1");
  y = m.Relu(m.BatchNorm(y, "bn1"), "relu1");
  y = m.BatchNorm(m.Conv(y, {.out = out, .kernel = 3, .padding = 1, .bias = false}, "conv2"),
                  "bn2");
  ValueId skip = x;
  if (stride != 1 || m.channels(x) != out) {
    skip = shortcut == ResNetShortcut::kPadding
               ? m.ShortcutPad(x, out, stride)
               : m.BatchNorm(m.Conv(x, {.out = out, .kernel = 1, .stride = stride, .bias = false},
                                    "shortcut_conv"),
                             "shortcut_bn");
  }
  return m.Relu(m.Add(y, skip), "relu2");
}

// Stages of `blocks` basic blocks; every stage but the first halves the resolution.
ValueId Stages(ModelBuilder& m, ValueId x, const std::vector<int64_t>& widths, int blocks,
               ResNetShortcut shortcut) {
  for (size_t stage = 0; stage < widths.size(); ++stage) {
    ModelBuilder::Scope stage_scope = m.Enter(absl::StrCat("stage", stage + 1));
    for (int block = 0; block < blocks; ++block) {
      ModelBuilder::Scope block_scope = m.Enter(absl::StrCat("block", block + 1));
      const int64_t stride = stage > 0 && block == 0 ? 2 : 1;
      x = BasicBlock(m, x, widths[stage], stride, shortcut);
    }
  }
  return x;
}

absl::StatusOr<ModelGraph> BuildResNet(const std::string& name, const std::vector<int64_t>& widths,
                                  int blocks, ResNetShortcut shortcut,
                                  const ModelOptions& options) {
  ModelBuilder m(name, options.input_shape());
  m.UseKaimingNormalConvInit();
  ValueId x = m.Conv(m.input(), {.out = widths[0], .kernel = 3, .padding = 1, .bias = false});
  x = m.Relu(m.BatchNorm(x));
  x = Stages(m, x, widths, blocks, shortcut);
  return m.Finish(m.Linear(m.GlobalAvgPool(x), options.classes));
}

}  // namespace

absl::StatusOr<ModelGraph> BuildCifarResNet(int depth, const ModelOptions& options) {
  if (depth < 8 || (depth - 2) % 6 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("resnet", depth, ": a CIFAR ResNet has depth 6n + 2 (20, 32, 56, 110)"));
  }
  return BuildResNet(absl::StrCat("resnet", depth), {16, 32, 64}, (depth - 2) / 6,
                     options.shortcut, options);
}

absl::StatusOr<ModelGraph> BuildResNet18(const ModelOptions& options) {
  return BuildResNet("resnet18", {64, 128, 256, 512}, 2, ResNetShortcut::kProjection, options);
}

}  // namespace ald
