// The training loop end to end on small data: it learns, a resumed run continues bitwise, and
// bad input fails with a message that names what is wrong.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "checkpoint/checkpoint.h"
#include "gtest/gtest.h"
#include "tools/trainer/trainer.h"

namespace ald {
namespace {

TrainConfig Synthetic(const std::string& name) {
  TrainConfig config;
  config.model = "resnet8";
  config.dataset = "synthetic";  // 1024 train / 256 test images, 3x8x8, 4 classes
  config.batch = 16;
  config.lr = 0.05;
  config.epochs = 2;
  config.quiet = true;
  config.workers = 1;
  config.checkpoint_dir = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(config.checkpoint_dir);
  return config;
}

TEST(TrainTest, LearnsTheSyntheticTask) {
  TrainConfig config = Synthetic("learns");
  absl::StatusOr<TrainResult> result = Train(config);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->steps, 2 * (1024 / 16));
  // 4 classes: chance is 25%. The classes differ in mean intensity, so two epochs suffice.
  EXPECT_GT(result->test_accuracy, 0.6);
  EXPECT_LT(result->final_train_loss, 1.0);  // log(4) = 1.39 at chance
}

// N steps straight and N/2 + resume + N/2 reach bitwise-identical parameters and momentum.
TEST(TrainTest, ResumeContinuesTheSameTrajectory) {
  TrainConfig straight = Synthetic("straight");
  straight.steps = 40;
  ASSERT_TRUE(Train(straight).ok());

  TrainConfig halves = Synthetic("halves");
  halves.steps = 20;  // stops mid-epoch (64 steps per epoch), checkpointing at the stop
  ASSERT_TRUE(Train(halves).ok());
  halves.steps = 40;
  halves.resume = true;
  absl::StatusOr<TrainResult> resumed = Train(halves);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->steps, 40);

  absl::StatusOr<TrainingState> a = LoadCheckpoint(straight.checkpoint_dir);
  absl::StatusOr<TrainingState> b = LoadCheckpoint(halves.checkpoint_dir);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->step, 40);
  EXPECT_EQ(b->step, 40);
  ASSERT_EQ(a->parameters.size(), b->parameters.size());
  auto same = [](const std::vector<NamedTensor>& x, const std::vector<NamedTensor>& y) {
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i].name != y[i].name || x[i].tensor.num_bytes() != y[i].tensor.num_bytes() ||
          std::memcmp(x[i].tensor.raw_data(), y[i].tensor.raw_data(), x[i].tensor.num_bytes())) {
        return x[i].name;
      }
    }
    return std::string();
  };
  EXPECT_EQ(same(a->parameters, b->parameters), "") << "parameters differ";
  EXPECT_EQ(same(a->optimizer_state, b->optimizer_state), "") << "momentum differs";
  EXPECT_EQ(same(a->running_stats, b->running_stats), "") << "running statistics differ";
}

TEST(TrainTest, ACheckpointOfAnotherModelIsRefused) {
  TrainConfig first = Synthetic("other_model");
  first.steps = 2;
  ASSERT_TRUE(Train(first).ok());
  TrainConfig other = first;
  other.model = "resnet14";
  other.resume = true;
  absl::StatusOr<TrainResult> result = Train(other);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("--resume"), std::string::npos) << result.status();
  // Refused before any tensor is compared, naming both models.
  EXPECT_NE(result.status().message().find("--model=resnet14: "), std::string::npos)
      << result.status();
  EXPECT_NE(result.status().message().find("written with --model=resnet8"), std::string::npos)
      << result.status();
}

TEST(TrainTest, ATruncatedCheckpointIsRefused) {
  TrainConfig config = Synthetic("truncated");
  config.steps = 2;
  ASSERT_TRUE(Train(config).ok());
  const std::string path = config.checkpoint_dir + "/checkpoint-2.safetensors";
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  config.resume = true;
  absl::StatusOr<TrainResult> result = Train(config);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("truncated"), std::string::npos) << result.status();
}

TEST(TrainTest, BadFlagsAndDataNameTheProblem) {
  TrainConfig config = Synthetic("bad");
  config.batch = 0;
  absl::StatusOr<TrainResult> result = Train(config);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("--batch=0"), std::string::npos) << result.status();

  config = Synthetic("bad");
  config.dataset = "fashion_mnist";
  config.data_dir = ::testing::TempDir() + "/no_such_dir";
  result = Train(config);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("no_such_dir"), std::string::npos) << result.status();

  config = Synthetic("bad");
  config.model = "resnet21";
  result = Train(config);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("resnet21"), std::string::npos) << result.status();

  config = Synthetic("bad");
  config.algo = "easgd";
  config.combine = "awc";
  result = Train(config);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("--combine=awc: expected atc with --algo=easgd"),
            std::string::npos)
      << result.status();
}

// Several in-process workers with each decentralized algorithm learn the task together, and
// their models agree closely at the end (consensus distance is small), for each algorithm the
// training binary offers.
TEST(TrainTest, InProcessWorkersLearnWithEachAlgorithm) {
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"aldsgd", "atc"},    {"dpsgd", "atc"}, {"matcha", "atc"}, {"allreduce", "atc"},
      {"easgd", "atc"},     {"lsgd", "atc"},  {"adpsgd", "atc"}, {"aldsgd", "awc"}};
  for (const auto& [algo, combine] : runs) {
    SCOPED_TRACE(algo + " " + combine);
    TrainConfig config = Synthetic(absl::StrCat("workers_", algo, "_", combine));
    config.workers = 4;
    config.algo = algo;
    config.combine = combine;
    config.epochs = 1;
    config.checkpoint_dir.clear();
    config.metrics = absl::StrCat(::testing::TempDir(), "/metrics_", algo, "_", combine, ".csv");
    absl::StatusOr<TrainResult> result = Train(config);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->steps, 1024 / 4 / 16);
    EXPECT_GT(result->test_accuracy, 0.5) << "chance is 0.25";
    EXPECT_GT(result->average_model_accuracy, 0.5);
    EXPECT_LT(result->consensus_distance, 0.1);
    std::ifstream metrics(config.metrics);
    std::vector<std::string> lines;
    for (std::string line; std::getline(metrics, line);) lines.push_back(line);
    ASSERT_EQ(lines.size(), 1 + 4) << "a header and one row per worker";
    EXPECT_TRUE(lines[0].ends_with(
        ",wall_seconds,bytes_sent,train_seconds,label_histogram,leader_steps,"
        "loss_leader_changes,degree_leader_changes,own_loss_leader,own_degree_leader"))
        << lines[0];
    // The training clock leaves out evaluation, so it is positive and behind the wall clock.
    const std::vector<std::string> row = absl::StrSplit(lines[1], ',');
    const double wall = std::stod(row[10]), train = std::stod(row[12]);
    EXPECT_GT(train, 0);
    EXPECT_LE(train, wall);
  }
}

// --wire=bf16 end to end: the trainer's byte counter (bytes sent per worker) halves, the
// workers still learn, and the rounding changes the trajectory (the flag reaches the exchange).
// Without sync_init every byte sent is a model exchange (the start's broadcast stays fp32).
TEST(TrainTest, Bf16WireHalvesTheBytesEachWorkerSends) {
  std::vector<TrainResult> results;
  for (const char* wire : {"fp32", "bf16"}) {
    TrainConfig config = Synthetic(absl::StrCat("wire_", wire));
    config.workers = 4;
    config.algo = "dpsgd";
    config.wire = wire;
    config.sync_init = false;
    config.epochs = 1;
    config.checkpoint_dir.clear();
    absl::StatusOr<TrainResult> result = Train(config);
    ASSERT_TRUE(result.ok()) << wire << ": " << result.status();
    EXPECT_GT(result->test_accuracy, 0.5) << wire << ": chance is 0.25";
    results.push_back(*result);
  }
  EXPECT_GT(results[0].bytes_sent_per_worker, 0);
  EXPECT_EQ(results[1].bytes_sent_per_worker * 2, results[0].bytes_sent_per_worker);
  EXPECT_NE(results[1].final_train_loss, results[0].final_train_loss);
}

// The same for algorithms with state of their own: EASGD's center, LSGD's leader copy and
// election are checkpointed, so 4 workers resumed mid-period (tau = 3) continue bitwise. And
// for AL-DSGD adapting with combine, whose exchange of x_t starts with the step: a checkpoint
// taken after a step must leave nothing of it in flight.
TEST(TrainTest, ResumeRestoresTheAlgorithmsOwnState) {
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"easgd", "atc"}, {"lsgd", "atc"}, {"aldsgd", "awc"}};
  for (const auto& [algo, combine] : runs) {
    SCOPED_TRACE(algo + " " + combine);
    std::vector<TrainingState> states;
    for (bool split : {false, true}) {
      TrainConfig config = Synthetic(absl::StrCat("resume_", algo, "_", combine,
                                                  split ? "_split" : ""));
      config.workers = 4;
      config.algo = algo;
      config.combine = combine;
      config.tau = 3;
      config.steps = 14;
      if (split) {
        config.steps = 7;  // mid-period: the center / leader copy is from step 6
        ASSERT_TRUE(Train(config).ok());
        config.steps = 14;
        config.resume = true;
      }
      absl::StatusOr<TrainResult> result = Train(config);
      ASSERT_TRUE(result.ok()) << result.status();
      absl::StatusOr<TrainingState> state = LoadCheckpoint(config.checkpoint_dir + "/worker-1");
      ASSERT_TRUE(state.ok()) << state.status();
      states.push_back(*std::move(state));
    }
    if (algo != "aldsgd") {
      ASSERT_FALSE(states[0].algorithm_state.empty());
    }
    using Group = std::vector<NamedTensor> TrainingState::*;
    for (Group group : {&TrainingState::parameters, &TrainingState::optimizer_state,
                        &TrainingState::algorithm_state}) {
      const std::vector<NamedTensor>& a = states[0].*group;
      const std::vector<NamedTensor>& b = states[1].*group;
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_EQ(a[i].tensor.num_bytes(), b[i].tensor.num_bytes()) << a[i].name;
        EXPECT_EQ(std::memcmp(a[i].tensor.raw_data(), b[i].tensor.raw_data(),
                              a[i].tensor.num_bytes()), 0)
            << a[i].name << " differs after the resume";
      }
    }
  }
}

// The pipelined step (each bucket's update and exchange hooked on its gradients becoming final)
// and the sequential one (all of backward, then every bucket) compute the same thing: the
// parameters after several steps are bitwise identical, for every synchronous algorithm, with
// small buckets so that there are many.
TEST(TrainTest, PipelinedAndSequentialStepsAgreeBitwise) {
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"aldsgd", "atc"}, {"dpsgd", "atc"}, {"matcha", "atc"}, {"allreduce", "atc"},
      {"easgd", "atc"},  {"lsgd", "atc"},  {"aldsgd", "awc"}, {"matcha", "awc"}};
  for (const auto& [algo, combine] : runs) {
    SCOPED_TRACE(algo + " " + combine);
    std::vector<TrainingState> states;
    for (bool pipeline : {true, false}) {
      TrainConfig config = Synthetic(absl::StrCat("pipeline_", algo, "_", combine,
                                                  pipeline ? "_on" : "_off"));
      config.workers = 4;
      config.algo = algo;
      config.combine = combine;
      config.steps = 10;
      config.bucket_mb = 0.02;  // ~5k floats: resnet8's 78k parameters make ~16 buckets
      config.pipeline = pipeline;
      absl::StatusOr<TrainResult> result = Train(config);
      ASSERT_TRUE(result.ok()) << result.status();
      absl::StatusOr<TrainingState> state = LoadCheckpoint(config.checkpoint_dir + "/worker-2");
      ASSERT_TRUE(state.ok()) << state.status();
      states.push_back(*std::move(state));
    }
    for (size_t i = 0; i < states[0].parameters.size(); ++i) {
      const Tensor& a = states[0].parameters[i].tensor;
      const Tensor& b = states[1].parameters[i].tensor;
      ASSERT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.num_bytes()), 0)
          << states[0].parameters[i].name;
    }
  }
}

// A learning rate that blows the model up stops training with a message, not NaN metrics.
TEST(TrainTest, DivergenceStopsWithAClearError) {
  TrainConfig config = Synthetic("diverges");
  config.lr = 1e6;
  config.momentum = 0;
  absl::StatusOr<TrainResult> result = Train(config);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("training diverged"), std::string::npos)
      << result.status();
  EXPECT_EQ(result.status().message().find("adapt with combine"), std::string::npos);

  // Adapt with combine says that it is the likely cause.
  config = Synthetic("diverges_awc");
  config.workers = 4;
  config.algo = "dpsgd";
  config.combine = "awc";
  config.lr = 1e6;
  config.momentum = 0;
  result = Train(config);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("adapt with combine often needs a lower rate"),
            std::string::npos)
      << result.status();
}

TEST(TrainTest, AnUnknownAlgorithmOrTopologyIsNamed) {
  TrainConfig config = Synthetic("unknown");
  config.workers = 4;
  config.algo = "gossip";
  absl::StatusOr<TrainResult> result = Train(config);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("--algo=gossip"), std::string::npos) << result.status();
  config.algo = "dpsgd";
  config.topology = "file:/no/such/topology.txt";
  result = Train(config);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("/no/such/topology.txt"), std::string::npos)
      << result.status();
}

// Issue 16's options: AL-DSGD on the authors' sparsest pair as two graph copies with a smoothed
// leader loss, their alternating D-PSGD on matcha8's pair, label-skewed data. The metrics carry each
// worker's label histogram (the whole training set, split) and the leader diagnostics, which
// an algorithm without leaders leaves empty.
TEST(TrainTest, TheStudysOptionsReachTheRunAndItsMetrics) {
  for (const std::string algo : {"aldsgd", "dpsgd"}) {
    SCOPED_TRACE(algo);
    TrainConfig config = Synthetic("study_" + algo);
    config.checkpoint_dir.clear();
    config.workers = 8;
    config.epochs = 1;
    config.algo = algo;
    config.base = "dpsgd";
    config.graphs = 2;
    config.topology = algo == "aldsgd" ? "matcha8-sparse:5" : "matcha8";
    config.dpsgd_schedule = algo == "aldsgd" ? "all" : "alternate";
    config.partition = "dirichlet:0.5";
    if (algo == "aldsgd") config.leader_loss = "ema:0.9";
    config.metrics = absl::StrCat(::testing::TempDir(), "/metrics_study_", algo, ".csv");
    absl::StatusOr<TrainResult> result = Train(config);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->steps, 1024 / 8 / 16);
    std::ifstream metrics(config.metrics);
    std::vector<std::string> lines;
    for (std::string line; std::getline(metrics, line);) lines.push_back(line);
    ASSERT_EQ(lines.size(), 1u + 8);
    int64_t examples = 0;
    std::set<std::string> histograms;
    for (size_t w = 1; w < lines.size(); ++w) {
      const std::vector<std::string> row = absl::StrSplit(lines[w], ',');
      ASSERT_EQ(row.size(), 19u) << lines[w];
      histograms.insert(row[13]);
      for (absl::string_view count : absl::StrSplit(row[13], ';')) {
        examples += std::stoll(std::string(count));
      }
      if (algo == "dpsgd") {
        EXPECT_EQ(row[14], "");
        continue;
      }
      // On the sparse pair a worker has a neighbour on some steps only.
      const int64_t leader_steps = std::stoll(row[14]);
      EXPECT_GE(leader_steps, 0);
      EXPECT_LE(leader_steps, result->steps);
      EXPECT_LE(std::stoll(row[17]), leader_steps);  // own adjacent leader
    }
    EXPECT_EQ(examples, 1024);        // every example belongs to one worker
    EXPECT_GT(histograms.size(), 1u);  // and the label mixes differ
  }
}

// --comm=nccl --workers=1 trains on one GPU. Where it cannot (no --config=cuda build, or no
// GPU), it says why, naming CUDA; where it can, it learns like the CPU run.
TEST(TrainTest, OneGpuWorkerTrainsOrSaysWhyNot) {
  TrainConfig config = Synthetic("gpu");
  config.comm = "nccl";
  absl::StatusOr<TrainResult> result = Train(config);
  if (!result.ok()) {
    EXPECT_NE(result.status().message().find("CUDA"), std::string::npos) << result.status();
    GTEST_SKIP() << "skipped, no GPU training here: " << result.status().message();
  }
  EXPECT_EQ(result->steps, 2 * (1024 / 16));
  EXPECT_GT(result->test_accuracy, 0.6);

  // An algorithm the GPU does not run yet is refused by name.
  config.workers = 4;
  config.algo = "easgd";
  result = Train(config);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("--algo=easgd"), std::string::npos) << result.status();
}

// A shortened real-data run (the acceptance runs are in the README): LeNet on Fashion-MNIST
// learns well above chance (10%) in 150 steps.
TEST(TrainTest, LearnsFashionMnist) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist")) {
    GTEST_SKIP() << "skipped: Fashion-MNIST is not installed (tools/setup.sh installs Debian's "
                    "dataset-fashion-mnist)";
  }
  TrainConfig config;
  config.model = "lenet5";
  config.workers = 1;
  config.batch = 64;
  config.steps = 150;
  config.quiet = true;
  absl::StatusOr<TrainResult> result = Train(config);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->test_accuracy, 0.6);
}

}  // namespace
}  // namespace ald
