#include "tools/trainer/output_paths.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

std::filesystem::path Scratch(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(OutputPathsTest, WritableOutputsPassAndTheCheckpointDirectoryIsCreated) {
  const std::filesystem::path dir = Scratch("outputs_ok");
  TrainConfig config;
  config.metrics = (dir / "metrics.csv").string();
  config.summary_json = (dir / "summary.json").string();
  config.trace = (dir / "trace.json").string();
  config.checkpoint_dir = (dir / "runs" / "one").string();
  EXPECT_TRUE(CheckOutputPaths(config).ok());
  EXPECT_TRUE(std::filesystem::is_directory(config.checkpoint_dir));
  // Nothing is left behind by the probes.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / "runs" / "one"), {}), 0);
  EXPECT_TRUE(CheckOutputPaths(TrainConfig()).ok());  // no outputs asked for
}

TEST(OutputPathsTest, AMissingDirectoryIsRefusedNamingTheFlag) {
  const std::filesystem::path dir = Scratch("outputs_missing");
  TrainConfig config;
  config.metrics = (dir / "no_such_dir" / "metrics.csv").string();
  const absl::Status status = CheckOutputPaths(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);  // exit 2
  EXPECT_THAT(status.message(), HasSubstr("--metrics=" + config.metrics + ": "));
  EXPECT_THAT(status.message(), HasSubstr("is not an existing directory"));
}

TEST(OutputPathsTest, AFileWhereADirectoryMustBeIsRefused) {
  const std::filesystem::path dir = Scratch("outputs_file");
  std::ofstream(dir / "plain_file") << "x";
  TrainConfig config;
  config.checkpoint_dir = (dir / "plain_file").string();
  EXPECT_THAT(CheckOutputPaths(config).message(),
              HasSubstr("--checkpoint_dir=" + config.checkpoint_dir + ": cannot create it"));
  config.checkpoint_dir.clear();
  config.summary_json = (dir / "plain_file" / "summary.json").string();
  EXPECT_THAT(CheckOutputPaths(config).message(), HasSubstr("--summary_json="));
}

}  // namespace
}  // namespace ald
