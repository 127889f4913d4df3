#include "graph/layout_pass.h"

#include "graph/compiler.h"
#include "gtest/gtest.h"
#include "models/registry.h"

namespace ald {
namespace {

TrainingGraph Prepared(const std::string& name, const ModelOptions& options) {
  absl::StatusOr<ModelGraph> graph = BuildModel(name, options);
  EXPECT_TRUE(graph.ok()) << graph.status();
  absl::StatusOr<TrainingGraph> prepared = PrepareGraph(*graph, {});
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  return *std::move(prepared);
}

ValueId Named(const ModelGraph& graph, const std::string& name) {
  for (size_t v = 0; v < graph.values.size(); ++v) {
    if (graph.values[v].name == name) return static_cast<ValueId>(v);
  }
  ADD_FAILURE() << "no value " << name;
  return 0;
}

TEST(LayoutPassTest, ResNetActivationsAndGradientsAreBlockedExceptTheInput) {
  const TrainingGraph t = Prepared("resnet20", ModelOptions{.batch = 2});
  const std::vector<bool> blocked = ChooseBlockedLayouts(t);
  EXPECT_FALSE(blocked[t.graph.input]);  // the loader writes plain NCHW
  int blocked_4d = 0, plain_4d = 0;
  for (size_t v = 0; v < t.graph.values.size(); ++v) {
    const ValueInfo& info = t.graph.values[v];
    if (info.shape.rank() != 4 || static_cast<ValueId>(v) == t.graph.input ||
        info.role == ValueRole::kParameter || info.role == ValueRole::kParameterGradient) {
      continue;
    }
    (blocked[v] ? blocked_4d : plain_4d)++;
  }
  EXPECT_EQ(plain_4d, 0);
  EXPECT_GT(blocked_4d, 50);
  // Parameters stay plain: they live in the flat buffer the algorithms average.
  EXPECT_FALSE(blocked[t.graph.parameters.front()]);
}

TEST(LayoutPassTest, LeNetChannelCountsKeepEverythingPlain) {
  const TrainingGraph t = Prepared("lenet5", ModelOptions{.batch = 2, .channels = 1,
                                                          .height = 28, .width = 28});
  const std::vector<bool> blocked = ChooseBlockedLayouts(t);
  // conv2 has 16 channels, but its output reaches a flatten over 5x5 through the pool, which
  // ties it to plain. (Values no node uses, such as the outputs of folded ReLUs, don't matter.)
  for (const Node& node : t.graph.nodes) {
    for (ValueId v : node.inputs) EXPECT_FALSE(blocked[v]) << t.graph.values[v].name;
    for (ValueId v : node.outputs) EXPECT_FALSE(blocked[v]) << t.graph.values[v].name;
  }
}

TEST(LayoutPassTest, AFlattenThatMixesSpaceIntoFeaturesKeepsItsInputPlain) {
  // VGG-11 on 64x64 input: the last pool is 2x2, so flatten is not a view of nChw16c memory;
  // the whole tied group (pool5 and the conv block before it) stays plain.
  const TrainingGraph t = Prepared("vgg11", ModelOptions{.batch = 2, .height = 64, .width = 64});
  const std::vector<bool> blocked = ChooseBlockedLayouts(t);
  EXPECT_FALSE(blocked[Named(t.graph, "vgg11/pool5/out")]);
  EXPECT_TRUE(blocked[Named(t.graph, "vgg11/conv1/conv/out")]);
  // On 32x32 the last pool is 1x1: flatten is a view either way, so it can stay blocked.
  const TrainingGraph cifar = Prepared("vgg11", ModelOptions{.batch = 2});
  EXPECT_TRUE(ChooseBlockedLayouts(cifar)[Named(cifar.graph, "vgg11/pool5/out")]);
}

}  // namespace
}  // namespace ald
