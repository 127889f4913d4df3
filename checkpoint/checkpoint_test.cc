#include "checkpoint/checkpoint.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/atomic_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

std::string TestDir(const std::string& name) {
  return absl::StrCat(::testing::TempDir(), "/checkpoint_", name);
}

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

Tensor Filled(Shape shape, float start) {
  Tensor tensor = *Tensor::Create(shape);
  for (int64_t i = 0; i < tensor.num_elements(); ++i) tensor.data<float>()[i] = start + i;
  return tensor;
}

// A small model's state; `start` makes the values differ between saves.
TrainingState SmallState(int64_t step, float start) {
  TrainingState state;
  state.model = "resnet20";
  state.step = step;
  state.epoch = 3;
  state.step_in_epoch = 17;
  state.seed = 0xfedcba9876543210u;
  state.worker = 5;
  state.rng_position = 123456789012u;
  state.data_position = 272;
  state.flags = {{"lr", "0.4"}, {"algorithm", "aldsgd"}};
  state.parameters = {{"conv1/weight", Filled({4, 3, 3, 3}, start)},
                      {"fc/weight", Filled({10, 64}, start + 1000)}};
  state.optimizer_state = {{"conv1/weight", Filled({4, 3, 3, 3}, -start)},
                           {"fc/weight", Filled({10, 64}, -start - 1000)}};
  state.running_stats = {{"bn1/mean", Filled({4}, start / 2)}};
  return state;
}

// The same tensors, zeroed: what a freshly built model offers to restore into.
TrainingState Zeroed(const TrainingState& state) {
  TrainingState zeroed;
  for (auto [from, to] : {std::pair{&state.parameters, &zeroed.parameters},
                          std::pair{&state.optimizer_state, &zeroed.optimizer_state},
                          std::pair{&state.running_stats, &zeroed.running_stats}}) {
    for (const NamedTensor& named : *from) {
      to->push_back({named.name, *Tensor::Create(named.tensor.shape(), named.tensor.dtype())});
    }
  }
  return zeroed;
}

bool SameValues(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    if (a.data<float>()[i] != b.data<float>()[i]) return false;
  }
  return true;
}

void ExpectSameTensors(const std::vector<NamedTensor>& a, const std::vector<NamedTensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_TRUE(SameValues(a[i].tensor, b[i].tensor)) << a[i].name;
  }
}

void ExpectSameScalars(const TrainingState& a, const TrainingState& b) {
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.step_in_epoch, b.step_in_epoch);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.worker, b.worker);
  EXPECT_EQ(a.rng_position, b.rng_position);
  EXPECT_EQ(a.data_position, b.data_position);
  EXPECT_EQ(a.flags, b.flags);
}

TEST(CheckpointTest, SaveLoadAndRestoreResumeExactly) {
  const std::string dir = TestDir("round_trip") + "/worker-5";  // created by the save
  const TrainingState saved = SmallState(40, 1.5f);
  absl::StatusOr<std::string> path = SaveCheckpoint(dir, saved);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, dir + "/checkpoint-40.safetensors");

  absl::StatusOr<TrainingState> loaded = LoadCheckpoint(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSameScalars(*loaded, saved);
  ExpectSameTensors(loaded->parameters, saved.parameters);
  ExpectSameTensors(loaded->optimizer_state, saved.optimizer_state);
  ExpectSameTensors(loaded->running_stats, saved.running_stats);

  TrainingState model = Zeroed(saved);
  const Tensor fc_storage = model.parameters[1].tensor;  // the model's own buffer
  ASSERT_TRUE(RestoreInto(model, *loaded).ok());
  ExpectSameScalars(model, saved);
  ExpectSameTensors(model.parameters, saved.parameters);
  ExpectSameTensors(model.optimizer_state, saved.optimizer_state);
  ExpectSameTensors(model.running_stats, saved.running_stats);
  EXPECT_EQ(model.parameters[1].tensor.raw_data(), fc_storage.raw_data());  // filled in place
  EXPECT_EQ(fc_storage.data<float>()[5], 1006.5f);
}

TEST(CheckpointTest, FileNamesOptimizerAndStatisticsTensors) {
  const std::string dir = TestDir("names");
  ASSERT_TRUE(SaveCheckpoint(dir, SmallState(1, 0)).ok());
  absl::StatusOr<SafetensorsFile> file = ReadSafetensors(dir + "/checkpoint-1.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  std::vector<std::string> names;
  for (const NamedTensor& named : file->tensors) names.push_back(named.name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1/weight", "fc/weight", "optimizer/conv1/weight",
                                             "optimizer/fc/weight", "running_stats/bn1/mean"}));
  EXPECT_EQ(file->metadata.at("step"), "1");
  EXPECT_EQ(file->metadata.at("seed"), "18364758544493064720");
  EXPECT_EQ(file->metadata.at("flag/lr"), "0.4");
  EXPECT_EQ(file->metadata.at("model"), "resnet20");
}

TEST(CheckpointTest, LatestPointsAtTheNewestAndKeepsThePrevious) {
  const std::string dir = TestDir("latest");
  ASSERT_TRUE(SaveCheckpoint(dir, SmallState(10, 1)).ok());
  EXPECT_EQ(Contents(dir + "/latest"), "checkpoint-10.safetensors\n");
  ASSERT_TRUE(SaveCheckpoint(dir, SmallState(20, 2)).ok());
  EXPECT_EQ(Contents(dir + "/latest"), "checkpoint-20.safetensors\n");

  absl::StatusOr<TrainingState> latest = LoadCheckpoint(dir);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->step, 20);
  EXPECT_EQ(latest->parameters[0].tensor.data<float>()[0], 2);
  absl::StatusOr<TrainingState> previous = LoadCheckpoint(dir + "/checkpoint-10.safetensors");
  ASSERT_TRUE(previous.ok()) << previous.status();
  EXPECT_EQ(previous->step, 10);
  EXPECT_EQ(previous->parameters[0].tensor.data<float>()[0], 1);
}

// The steps a resume may choose from: every complete checkpoint up to the one `latest` names
// (a file past it is a save whose pointer never moved; other names are not checkpoints).
TEST(CheckpointTest, CheckpointStepsListsTheCompleteOnesUpToLatest) {
  const std::string dir = TestDir("steps");
  for (int64_t step : {2, 10, 4}) ASSERT_TRUE(SaveCheckpoint(dir, SmallState(step, 1)).ok());
  ASSERT_TRUE(SaveCheckpoint(dir, SmallState(6, 1)).ok());
  std::ofstream(dir + "/checkpoint-6.safetensors.tmp-123") << "partial";
  std::ofstream(dir + "/checkpoint-07.safetensors") << "not a name we write";
  absl::StatusOr<std::vector<int64_t>> steps = CheckpointSteps(dir);
  ASSERT_TRUE(steps.ok()) << steps.status();
  EXPECT_EQ(*steps, (std::vector<int64_t>{2, 4, 6}));
  std::ofstream(dir + "/latest") << "checkpoint-8.safetensors\n";
  EXPECT_EQ(CheckpointSteps(dir).status().code(), absl::StatusCode::kNotFound);
  std::ofstream(dir + "/latest") << "model.safetensors\n";
  EXPECT_EQ(CheckpointSteps(dir).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(CheckpointSteps(TestDir("none")).status().code(), absl::StatusCode::kNotFound);
}

// A save that fails leaves both the pointer and the checkpoint it names as they were.
TEST(CheckpointTest, FailedSaveKeepsThePreviousCheckpoint) {
  const std::string dir = TestDir("failed_save");
  ASSERT_TRUE(SaveCheckpoint(dir, SmallState(10, 1)).ok());
  const std::string blocked = TempPathFor(dir + "/checkpoint-20.safetensors");
  ASSERT_TRUE(std::filesystem::create_directory(blocked));
  EXPECT_FALSE(SaveCheckpoint(dir, SmallState(20, 2)).ok());
  std::filesystem::remove(blocked);
  EXPECT_EQ(Contents(dir + "/latest"), "checkpoint-10.safetensors\n");
  absl::StatusOr<TrainingState> latest = LoadCheckpoint(dir);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->step, 10);
}

TEST(CheckpointTest, RefusesReservedParameterNamesAndNegativeSteps) {
  TrainingState state = SmallState(1, 0);
  state.parameters.push_back({"optimizer/x", Filled({1}, 0)});
  EXPECT_THAT(SaveCheckpoint(TestDir("reserved"), state).status().message(),
              HasSubstr("parameter 'optimizer/x' starts with 'optimizer/'"));
  EXPECT_THAT(SaveCheckpoint(TestDir("negative"), SmallState(-1, 0)).status().message(),
              HasSubstr("step -1 is negative"));
}

TEST(CheckpointTest, LoadErrorsSayWhatIsWrong) {
  const std::string empty = TestDir("empty");
  std::filesystem::create_directories(empty);
  absl::StatusOr<TrainingState> none = LoadCheckpoint(empty);
  EXPECT_TRUE(absl::IsNotFound(none.status())) << none.status();
  EXPECT_THAT(none.status().message(), HasSubstr("no checkpoint in " + empty));

  const std::string escaping = TestDir("escaping");
  std::filesystem::create_directories(escaping);
  std::ofstream(escaping + "/latest") << "../elsewhere.safetensors\n";
  EXPECT_THAT(LoadCheckpoint(escaping).status().message(),
              HasSubstr("names '../elsewhere.safetensors', expected a file name"));

  // A valid safetensors file that is not a training checkpoint.
  const std::string foreign = TestDir("foreign.safetensors");
  ASSERT_TRUE(WriteSafetensors(foreign, {{"w", Filled({1}, 0)}}, {{"format", "pt"}}).ok());
  EXPECT_THAT(LoadCheckpoint(foreign).status().message(),
              HasSubstr(foreign + ": metadata 'checkpoint_format' missing"));

  const std::string bad_step = TestDir("bad_step");
  ASSERT_TRUE(SaveCheckpoint(bad_step, SmallState(3, 0)).ok());
  absl::StatusOr<SafetensorsFile> file = ReadSafetensors(bad_step + "/checkpoint-3.safetensors");
  ASSERT_TRUE(file.ok());
  file->metadata["step"] = "3x";
  ASSERT_TRUE(
      WriteSafetensors(bad_step + "/checkpoint-3.safetensors", file->tensors, file->metadata).ok());
  EXPECT_THAT(LoadCheckpoint(bad_step).status().message(),
              HasSubstr("metadata 'step' is '3x', expected an integer"));
}

class RestoreMismatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loaded_ = SmallState(7, 1);
    loaded_.model = "resnet32";
    model_ = Zeroed(loaded_);
  }
  std::string RestoreError() {
    absl::Status status = RestoreInto(model_, loaded_);
    return status.ok() ? "restored" : std::string(status.message());
  }
  TrainingState loaded_;
  TrainingState model_;
};

TEST_F(RestoreMismatchTest, MissingTensorIsNamed) {
  model_.parameters.push_back(
      {"resnet20/stage3/block3/conv2/weight", *Tensor::Create({64, 64, 3, 3})});
  EXPECT_EQ(RestoreError(),
            "checkpoint was written by model 'resnet32': tensor "
            "'resnet20/stage3/block3/conv2/weight' missing");
}

TEST_F(RestoreMismatchTest, MissingOptimizerStateIsNamedAsInTheFile) {
  loaded_.optimizer_state.pop_back();
  EXPECT_THAT(RestoreError(), HasSubstr("tensor 'optimizer/fc/weight' missing"));
}

TEST_F(RestoreMismatchTest, ShapeMismatchIsNamedAndChangesNothing) {
  model_.parameters[1].tensor = *Tensor::Create({100, 64});
  EXPECT_EQ(RestoreError(),
            "checkpoint was written by model 'resnet32': tensor 'fc/weight' has "
            "shape [10, 64] in the file, the model expects [100, 64]");
  // conv1/weight matched, but nothing is copied unless everything matches.
  EXPECT_EQ(model_.parameters[0].tensor.data<float>()[1], 0);
  EXPECT_EQ(model_.step, 0);
}

TEST_F(RestoreMismatchTest, DTypeMismatchIsNamed) {
  model_.running_stats[0].tensor = *Tensor::Create({4}, DType::kBF16);
  EXPECT_THAT(RestoreError(), HasSubstr("tensor 'running_stats/bn1/mean' has dtype f32 in the "
                                        "file, the model expects bf16"));
}

TEST_F(RestoreMismatchTest, ExtraTensorInTheFileIsNamed) {
  loaded_.parameters.push_back({"fc2/weight", Filled({2}, 0)});
  loaded_.parameters.push_back({"fc3/weight", Filled({2}, 0)});
  EXPECT_THAT(RestoreError(), HasSubstr("tensor 'fc2/weight' is in the file but not in the model"));
}

}  // namespace
}  // namespace ald
