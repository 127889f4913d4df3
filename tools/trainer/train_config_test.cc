// The flag table's contract: checkpoints store exactly these 15 flags, spelled as before the
// table existed (a change here changes every checkpoint file), and the defaults are valid.
#include "tools/trainer/train_config.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

TEST(TrainConfigTest, CheckpointsStoreTheFifteenFlagsAsTheyAlwaysDid) {
  const std::map<std::string, std::string> defaults = {
      {"model", "resnet20"},
      {"dataset", "fashion_mnist"},
      {"pad", "0"},
      {"batch", "32"},
      {"lr", "0.05"},
      {"momentum", "0.9"},
      {"weight_decay", "0.0005"},
      {"nesterov", "false"},
      {"lr_schedule", "cosine"},
      {"epochs", "1"},
      {"seed", "1"},
      {"workers", "4"},
      {"algo", "aldsgd"},
      {"combine", "atc"},
      {"topology", "ring"},
  };
  EXPECT_EQ(TrainConfig().AsFlags(), defaults);

  TrainConfig config;
  config.lr = 0.0123456789;
  config.weight_decay = 1e-5;
  config.nesterov = true;
  config.seed = 12345678901;
  config.steps = 7;  // not stored: a resumed run may go further
  const std::map<std::string, std::string> flags = config.AsFlags();
  EXPECT_EQ(flags.size(), 15u);
  EXPECT_EQ(flags.at("lr"), "0.0123457");
  EXPECT_EQ(flags.at("weight_decay"), "1e-05");
  EXPECT_EQ(flags.at("nesterov"), "true");
  EXPECT_EQ(flags.at("seed"), "12345678901");
  EXPECT_FALSE(flags.contains("steps"));
}

TEST(TrainConfigTest, TheDefaultsAreValid) { EXPECT_TRUE(ValidateConfig(TrainConfig()).ok()); }

TEST(TrainConfigTest, ErrorsNameTheFlagTheValueAndWhatWasExpected) {
  TrainConfig config;
  config.timeout_seconds = 0;  // the field's flag is --timeout
  EXPECT_EQ(ValidateConfig(config).message(), "--timeout=0: expected a positive number of seconds");
  config = TrainConfig();
  config.nesterov = true;
  config.momentum = 0;
  EXPECT_THAT(ValidateConfig(config).message(), HasSubstr("--nesterov=true: expected --momentum"));
  config = TrainConfig();
  config.lr_schedule = "linear";
  EXPECT_THAT(ValidateConfig(config).message(), HasSubstr("--lr_schedule: 'linear'"));
}

// --graphs: the same relabelled copies for every algorithm that walks the topology, with
// AL-DSGD's authors' K = 2 and the baselines' K = 1 as the defaults.
TEST(TrainConfigTest, GraphCopiesApplyToEveryGossipAlgorithm) {
  TrainConfig config;
  config.algo = "aldsgd";
  EXPECT_EQ(GraphCopies(config), 2);
  for (const char* baseline : {"dpsgd", "matcha"}) {
    config.algo = baseline;
    config.graphs = 0;
    EXPECT_EQ(GraphCopies(config), 1) << baseline;
    config.graphs = 2;
    EXPECT_EQ(GraphCopies(config), 2) << baseline;
    EXPECT_TRUE(ValidateConfig(config).ok()) << baseline;
  }
  config.algo = "aldsgd";
  config.graphs = 1;
  EXPECT_EQ(GraphCopies(config), 1);
  config.algo = "allreduce";
  config.graphs = 2;
  EXPECT_THAT(ValidateConfig(config).message(), HasSubstr("--graphs=2: expected 1 with --algo=allreduce"));
  config.graphs = -1;
  EXPECT_THAT(ValidateConfig(config).message(), HasSubstr("--graphs=-1"));
}

}  // namespace
}  // namespace ald
