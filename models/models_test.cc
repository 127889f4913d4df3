// The model zoo: parameter counts of the standard definitions, output shapes on both data
// sets' input sizes, and errors that name the layer path.
#include <string>

#include "gtest/gtest.h"
#include "graph/model_builder.h"
#include "models/registry.h"

namespace ald {
namespace {

int64_t Parameters(const std::string& name, const ModelOptions& options) {
  absl::StatusOr<ModelGraph> graph = BuildModel(name, options);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return graph.ok() ? graph->NumParameters() : -1;
}

// Published counts (BN scale and shift counted, running statistics not), e.g. He et al. 2016
// Table 6 (0.27M for ResNet-20) and the reference PyTorch CIFAR implementations.
TEST(ModelsTest, ParameterCountsMatchTheStandardDefinitions) {
  ModelOptions cifar;
  EXPECT_EQ(Parameters("resnet20", cifar), 269722);
  ModelOptions projection = cifar;
  projection.shortcut = ResNetShortcut::kProjection;
  EXPECT_EQ(Parameters("resnet20", projection), 272474);
  EXPECT_EQ(Parameters("resnet18", cifar), 11173962);
  EXPECT_EQ(Parameters("vgg11", cifar), 9228362);
  EXPECT_EQ(Parameters("vgg16", cifar), 14724042);
  ModelOptions fashion{.batch = 4, .channels = 1, .height = 28, .width = 28, .classes = 10};
  EXPECT_EQ(Parameters("lenet5", fashion), 61706);
}

TEST(ModelsTest, TheSameDefinitionServesBothDataSets) {
  ModelOptions fashion{.batch = 2, .channels = 1, .height = 28, .width = 28, .classes = 10};
  ModelOptions cifar{.batch = 2, .channels = 3, .height = 32, .width = 32, .classes = 100};
  for (const char* name : {"resnet20", "resnet56", "lenet5", "resnet18"}) {
    SCOPED_TRACE(name);
    absl::StatusOr<ModelGraph> small = BuildModel(name, fashion);
    ASSERT_TRUE(small.ok()) << small.status();
    EXPECT_EQ(small->value(small->logits).shape, (Shape{2, 10}));
    absl::StatusOr<ModelGraph> large = BuildModel(name, cifar);
    ASSERT_TRUE(large.ok()) << large.status();
    EXPECT_EQ(large->value(large->logits).shape, (Shape{2, 100}));
    EXPECT_EQ(large->value(large->loss).shape, Shape{});
  }
}

TEST(ModelsTest, LayerPathsNameEveryParameter) {
  absl::StatusOr<ModelGraph> graph = BuildModel("resnet20", ModelOptions{});
  ASSERT_TRUE(graph.ok());
  std::vector<std::string> names;
  for (ValueId id : graph->parameters) names.push_back(graph->value(id).name);
  EXPECT_EQ(names.front(), "resnet20/conv/weight");
  EXPECT_NE(std::find(names.begin(), names.end(), "resnet20/stage2/block1/conv2/weight"),
            names.end());
  EXPECT_EQ(names.back(), "resnet20/fc/bias");
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end()) << "duplicate name";
  // 19 convolutions + 19 batch norms (2 parameters each) + linear weight and bias.
  EXPECT_EQ(graph->parameters.size(), 19u + 19u * 2u + 2u);
  EXPECT_EQ(graph->running_stats.size(), 19u * 2u);
}

TEST(ModelsTest, ShapeErrorsNameTheLayerAndBothShapes) {
  ModelBuilder m("resnet20", Shape{8, 3, 32, 32});
  ValueId x = m.Conv(m.input(), {.out = 32, .kernel = 3, .padding = 1});
  {
    ModelBuilder::Scope stage = m.Enter("stage2");
    ModelBuilder::Scope block = m.Enter("block1");
    x = m.Conv(x, {.out = 16, .kernel = 3, .in = 16}, "conv2");
  }
  x = m.Relu(x);  // after an error, later layers are no-ops
  absl::StatusOr<ModelGraph> graph = m.Finish(x);
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().message().rfind("resnet20/stage2/block1/conv2: ", 0), 0u)
      << graph.status();
  EXPECT_NE(graph.status().message().find("input has 32 channels, weight expects 16"),
            std::string::npos)
      << graph.status();
}

TEST(ModelsTest, ElementwiseFunctionsAreNodesOfOneKind) {
  ModelBuilder m("tiny", Shape{2, 3, 4, 4});
  const ValueId x = m.Elementwise("relu", m.input());
  absl::StatusOr<ModelGraph> graph = m.Finish(m.Linear(m.Flatten(m.Relu(x, "again")), 2));
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->nodes[0].type, OpType::kElementwise);
  EXPECT_EQ(graph->nodes[0].name, "tiny/relu");
  EXPECT_TRUE(graph->nodes[1].IsElementwise("relu"));
  EXPECT_EQ(graph->nodes[1].name, "tiny/again");
  EXPECT_NE(graph->Summary().find("tiny/again"), std::string::npos);
  EXPECT_NE(graph->Summary().find(" relu "), std::string::npos) << graph->Summary();
}

TEST(ModelsTest, AnUnknownElementwiseFunctionListsTheKnownOnes) {
  ModelBuilder m("tiny", Shape{2, 3, 4, 4});
  absl::StatusOr<ModelGraph> graph = m.Finish(m.Elementwise("no_such_function", m.input(), "f"));
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().message().rfind("tiny/f: no element-wise function \"no_such_function\"",
                                           0),
            0u)
      << graph.status();
  EXPECT_NE(graph.status().message().find("relu"), std::string::npos) << graph.status();
}

TEST(ModelsTest, TooSmallAnInputIsAClearError) {
  // Five 2x2 pools need at least 32x32: on 28x28 the fifth pool sees a 1x1 input.
  ModelOptions fashion{.batch = 2, .channels = 1, .height = 28, .width = 28, .classes = 10};
  absl::StatusOr<ModelGraph> graph = BuildModel("vgg11", fashion);
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().message().rfind("vgg11/pool5: ", 0), 0u) << graph.status();
}

TEST(ModelsTest, UnknownNamesListTheKnownOnes) {
  absl::StatusOr<ModelGraph> graph = BuildModel("resnet21", ModelOptions{});
  ASSERT_FALSE(graph.ok());
  EXPECT_NE(graph.status().message().find("resnet20"), std::string::npos) << graph.status();
}

}  // namespace
}  // namespace ald
