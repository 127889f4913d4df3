// Runtime registration: a registered model builds by name like a built-in one, and a name
// cannot be taken twice.
#include "models/registry.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "graph/model_builder.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<ModelGraph> BuildTiny(const ModelOptions& options) {
  ModelBuilder m("tiny", options.input_shape());
  return m.Finish(m.Linear(m.Flatten(m.input()), options.classes, true, "fc"));
}

// As a user's file registers its model: a namespace-scope object, before main().
const ModelRegistration kStaticTiny("static_tiny", BuildTiny);
// A second model under a built-in name: the name reports the clash instead of either model.
const ModelRegistration kClash("lenet", BuildTiny);

bool Listed(const std::string& name) {
  const std::vector<std::string> names = ModelNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(RegistryTest, AStaticRegistrationBuildsByName) {
  EXPECT_TRUE(Listed("static_tiny"));
  absl::StatusOr<ModelGraph> graph = BuildModel("static_tiny", ModelOptions{});
  ASSERT_TRUE(graph.ok()) << graph.status();
}

TEST(RegistryTest, RegisterModelAddsAModelAndRefusesATakenName) {
  ASSERT_TRUE(RegisterModel("tiny_at_runtime", BuildTiny).ok());
  EXPECT_TRUE(Listed("tiny_at_runtime"));
  EXPECT_TRUE(BuildModel("tiny_at_runtime", ModelOptions{}).ok());

  absl::Status again = RegisterModel("tiny_at_runtime", BuildTiny);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(again.message(), HasSubstr("'tiny_at_runtime' is registered twice"));
  EXPECT_EQ(RegisterModel("resnet20", BuildTiny).code(), absl::StatusCode::kAlreadyExists);
  // A refused call leaves the built-in model in place.
  EXPECT_TRUE(BuildModel("resnet20", ModelOptions{}).ok());

  EXPECT_EQ(RegisterModel("", BuildTiny).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RegisterModel("empty", nullptr).code(), absl::StatusCode::kInvalidArgument);
}

TEST(RegistryTest, AClashingStaticRegistrationIsReportedWhenTheNameIsUsed) {
  absl::StatusOr<ModelGraph> graph = BuildModel("lenet", ModelOptions{});
  ASSERT_FALSE(graph.ok());
  EXPECT_THAT(graph.status().message(), HasSubstr("'lenet' is registered twice"));
  EXPECT_TRUE(BuildModel("lenet5", ModelOptions{}).ok());  // the same builder's other name
}

TEST(RegistryTest, AnUnknownNameListsTheKnownOnes) {
  absl::StatusOr<ModelGraph> graph = BuildModel("resnet21", ModelOptions{});
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(graph.status().message(), HasSubstr("resnet20"));
  EXPECT_THAT(graph.status().message(), HasSubstr("static_tiny"));
}

}  // namespace
}  // namespace ald
