// The flag table's contract: checkpoints store exactly these 15 flags, spelled as before the
// table existed (a change here changes every checkpoint file), and the defaults are valid.
#include "tools/trainer/train_config.h"

#include <cmath>
#include <limits>
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

TEST(TrainConfigTest, NumbersOutsideTheirMeaningAreRefusedWithTheirRange) {
  TrainConfig config;
  config.lr = std::numeric_limits<double>::infinity();
  EXPECT_EQ(ValidateConfig(config).message(), "--lr=inf: expected a finite learning rate > 0");
  config = TrainConfig();
  config.lr = std::nan("");
  EXPECT_FALSE(ValidateConfig(config).ok());
  config = TrainConfig();
  config.c1 = -0.1;
  EXPECT_EQ(ValidateConfig(config).message(), "--c1=-0.1: expected a weight in [0, 1]");
  config = TrainConfig();
  config.c1 = 0.7;
  config.c2 = 0.4;
  EXPECT_THAT(ValidateConfig(config).message(), HasSubstr("--c1=0.7: expected --c1 + --c2 <= 1"));
  config = TrainConfig();
  config.p1 = 0.6;
  config.p2 = 0.6;
  EXPECT_THAT(ValidateConfig(config).message(), HasSubstr("--p1 + --p2 <= 1"));
  config.aldsgd_form = "paper";  // the paper form scales the pull by lr = 0.05
  EXPECT_TRUE(ValidateConfig(config).ok()) << ValidateConfig(config);
  config = TrainConfig();
  config.rho = 1.5;
  EXPECT_EQ(ValidateConfig(config).message(), "--rho=1.5: expected a moving rate in [0, 1]");
  config = TrainConfig();
  config.timeout_seconds = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(ValidateConfig(config).ok());
}

// --wire: models only, and the host's exchanges only; not a checkpoint flag (a resume may change
// it, and default checkpoints keep their bytes).
TEST(TrainConfigTest, Bf16WireAppliesToTheAlgorithmsThatSendModels) {
  TrainConfig config;
  config.wire = "bf16";
  for (const char* algo : {"dpsgd", "aldsgd", "easgd", "lsgd"}) {
    config.algo = algo;
    EXPECT_TRUE(ValidateConfig(config).ok()) << algo << ": " << ValidateConfig(config);
  }
  config.algo = "matcha";
  config.topology = "matcha8";
  config.workers = 8;
  EXPECT_TRUE(ValidateConfig(config).ok()) << ValidateConfig(config);
  for (const char* algo : {"allreduce", "adpsgd"}) {
    config.algo = algo;
    EXPECT_THAT(ValidateConfig(config).message(),
                HasSubstr(std::string("--wire=bf16: expected fp32 with --algo=") + algo));
  }
  config = TrainConfig();
  config.wire = "bf16";
  config.comm = "nccl";
  EXPECT_THAT(ValidateConfig(config).message(),
              HasSubstr("--wire=bf16: expected fp32 with --comm=nccl"));
  config.wire = "fp16";
  EXPECT_THAT(ValidateConfig(config).message(),
              HasSubstr("--wire=fp16: expected fp32, bf16 or bf16-nearest"));
  EXPECT_FALSE(TrainConfig().AsFlags().contains("wire"));
  TrainConfig resumed;
  resumed.wire = "bf16";
  EXPECT_TRUE(CheckResumable(resumed, TrainConfig().AsFlags(), "f").ok());
}

TEST(TrainConfigTest, AResumeKeepsTheRunsShapeAndMayChangeItsOptimisation) {
  TrainConfig written;
  written.workers = 4;
  const std::map<std::string, std::string> flags = written.AsFlags();
  TrainConfig resumed = written;
  resumed.lr = 0.01;  // a safe change: the future of the trajectory, not the meaning of the state
  resumed.epochs = 3;
  EXPECT_TRUE(CheckResumable(resumed, flags, "ck/worker-0/checkpoint-6.safetensors").ok());
  resumed.workers = 2;
  const absl::Status status = CheckResumable(resumed, flags, "ck/worker-0/checkpoint-6.safetensors");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--workers=2: ck/worker-0/checkpoint-6.safetensors was "
                                          "written with --workers=4"));
  for (auto change : {+[](TrainConfig& c) { c.model = "lenet5"; },
                      +[](TrainConfig& c) { c.algo = "dpsgd"; },
                      +[](TrainConfig& c) { c.topology = "complete"; }}) {
    resumed = written;
    change(resumed);
    EXPECT_FALSE(CheckResumable(resumed, flags, "f").ok());
  }
}

// Issue 16's flags: each value checked with what was expected, and the combinations that mean
// nothing refused naming the flag.
TEST(TrainConfigTest, TheStudysFlagsAreChecked) {
  EXPECT_EQ(*ParseLeaderLoss("batch"), 0.0);
  EXPECT_EQ(*ParseLeaderLoss("ema:0.9"), 0.9);
  for (const char* bad : {"ema:0", "ema:1", "ema:", "ema:x", "mean"}) {
    EXPECT_FALSE(ParseLeaderLoss(bad).ok()) << bad;
  }
  TrainConfig config;
  config.partition = "dirichlet:0";
  EXPECT_THAT(ValidateConfig(config).message(),
              HasSubstr("--partition=dirichlet:0: expected reshuffle, fixed, dirichlet:ALPHA"));
  config = TrainConfig();
  config.partition = "shards:2";
  EXPECT_TRUE(ValidateConfig(config).ok());
  config = TrainConfig();
  config.dpsgd_schedule = "alternate";  // the default aldsgd runs over MATCHA
  EXPECT_THAT(ValidateConfig(config).message(),
              HasSubstr("--dpsgd_schedule=alternate: expected all with --algo=aldsgd --base=matcha"));
  config.base = "dpsgd";
  EXPECT_TRUE(ValidateConfig(config).ok());
  config.dpsgd_schedule = "some";
  EXPECT_THAT(ValidateConfig(config).message(), HasSubstr("expected all or alternate"));
  config = TrainConfig();
  config.algo = "dpsgd";
  config.leader_loss = "ema:0.5";
  EXPECT_THAT(ValidateConfig(config).message(),
              HasSubstr("--leader_loss=ema:0.5: expected batch with --algo=dpsgd"));
  // None of them is stored in checkpoints: the default run's files stay as they were.
  config = TrainConfig();
  config.partition = "fixed";
  config.dpsgd_schedule = "alternate";
  config.leader_loss = "ema:0.5";
  EXPECT_EQ(config.AsFlags(), TrainConfig().AsFlags());
}

}  // namespace
}  // namespace ald
