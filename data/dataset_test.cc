#include "data/dataset.h"

#include <filesystem>
#include <string>

#include "data/cifar10.h"
#include "data/idx.h"
#include "data/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::ald::testing::Cifar10FileBytes;
using ::ald::testing::IdxFileBytes;
using ::ald::testing::TestPath;
using ::ald::testing::WriteTestFile;
using ::testing::HasSubstr;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// A Fashion-MNIST directory with `count` 3x2 test images (pixel values = index) and labels.
std::string WriteFashionMnistTestSplit(int count, int label_count, bool gzip) {
  const std::string dir = TestPath("fashion");
  std::filesystem::create_directories(dir);
  std::vector<uint8_t> pixels, labels;
  for (int i = 0; i < count; ++i) pixels.insert(pixels.end(), 6, static_cast<uint8_t>(i));
  for (int i = 0; i < label_count; ++i) labels.push_back(static_cast<uint8_t>(i % 10));
  const std::string suffix = gzip ? ".gz" : "";
  EXPECT_TRUE(WriteTestFile(
                  dir + "/t10k-images-idx3-ubyte" + suffix,
                  IdxFileBytes(kIdxImagesMagic, {static_cast<uint32_t>(count), 3, 2}, pixels), gzip)
                  .ok());
  EXPECT_TRUE(WriteTestFile(
                  dir + "/t10k-labels-idx1-ubyte" + suffix,
                  IdxFileBytes(kIdxLabelsMagic, {static_cast<uint32_t>(label_count)}, labels), gzip)
                  .ok());
  return dir;
}

TEST(DatasetTest, LoadsFashionMnistFromGzipOrPlainFiles) {
  for (bool gzip : {true, false}) {
    const std::string dir = WriteFashionMnistTestSplit(12, 12, gzip);
    auto dataset = LoadDataset("fashion_mnist", dir, Split::kTest);
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    EXPECT_EQ(dataset->name, "fashion_mnist/test");
    EXPECT_EQ(dataset->count, 12);
    EXPECT_EQ(dataset->channels, 1);
    EXPECT_EQ(dataset->height, 3);
    EXPECT_EQ(dataset->width, 2);
    EXPECT_EQ(dataset->num_classes, 10);
    EXPECT_EQ(dataset->image(11)[5], 11);
    EXPECT_EQ(dataset->labels[11], 1);
    EXPECT_EQ(dataset->mean, std::vector<float>{0.2860f});
    EXPECT_EQ(dataset->stddev, std::vector<float>{0.3530f});
    std::filesystem::remove_all(dir);
  }
}

TEST(DatasetTest, ImageAndLabelCountsMustAgree) {
  const std::string dir = WriteFashionMnistTestSplit(12, 11, true);
  auto dataset = LoadDataset("fashion_mnist", dir, Split::kTest);
  ASSERT_FALSE(dataset.ok());
  EXPECT_EQ(Message(dataset.status()),
            dir + "/t10k-images-idx3-ubyte.gz and " + dir +
                "/t10k-labels-idx1-ubyte.gz: images (12) and labels (11) differ in count");
}

TEST(DatasetTest, TrainAndTestImagesOfDifferentSizesNameBothFiles) {
  const std::string dir = WriteFashionMnistTestSplit(4, 4, true);
  auto test = LoadDataset("fashion_mnist", dir, Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(test->source, dir + "/t10k-images-idx3-ubyte.gz");
  Dataset train = *test;
  train.source = dir + "/train-images-idx3-ubyte.gz";
  EXPECT_TRUE(CheckSameImageSize(train, *test).ok());
  train.width = 3;
  const absl::Status status = CheckSameImageSize(train, *test);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(status), "--data_dir: " + dir + "/train-images-idx3-ubyte.gz holds 1x3x3 "
                             "images, but " + dir + "/t10k-images-idx3-ubyte.gz holds 1x3x2 "
                             "images; training and test images must have the same channels, "
                             "height and width");
  std::filesystem::remove_all(dir);
}

TEST(DatasetTest, MissingFashionMnistDirectorySaysWhatToInstall) {
  const std::string dir = TestPath("no_such_dir");
  auto dataset = LoadDataset("fashion_mnist", dir, Split::kTrain);
  ASSERT_FALSE(dataset.ok());
  EXPECT_EQ(dataset.status().code(), absl::StatusCode::kNotFound);
  const std::string message = Message(dataset.status());
  EXPECT_THAT(message, HasSubstr(dir + " does not exist"));
  EXPECT_THAT(message, HasSubstr("train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz"));
  EXPECT_THAT(message, HasSubstr("tools/setup.sh"));
  EXPECT_THAT(message, HasSubstr("/usr/share/datasets/fashion-mnist"));
}

TEST(DatasetTest, MissingFileInAnExistingDirectoryIsNamed) {
  const std::string dir = WriteFashionMnistTestSplit(4, 4, true);
  auto dataset = LoadDataset("fashion_mnist", dir, Split::kTrain);  // only t10k files exist
  ASSERT_FALSE(dataset.ok());
  EXPECT_THAT(Message(dataset.status()),
              HasSubstr(dir + "/train-images-idx3-ubyte.gz: no such file"));
}

// CIFAR-10 files with `per_file` records each, all labelled by file number.
void WriteCifar10(const std::string& dir, int per_file) {
  std::filesystem::create_directories(dir);
  int file_number = 0;
  for (bool train : {true, false}) {
    for (const std::string& name : Cifar10FileNames(train)) {
      const std::vector<uint8_t> labels(per_file, static_cast<uint8_t>(file_number++));
      ASSERT_TRUE(WriteTestFile(dir + "/" + name, Cifar10FileBytes(labels), false).ok());
    }
  }
}

TEST(DatasetTest, LoadsCifar10FromItsDirectoryOrTheArchiveParent) {
  const std::string parent = TestPath("cifar");
  WriteCifar10(parent + "/cifar-10-batches-bin", 3);
  for (const std::string& dir : {parent, parent + "/cifar-10-batches-bin"}) {
    auto train = LoadDataset("cifar10", dir, Split::kTrain);
    ASSERT_TRUE(train.ok()) << train.status();
    EXPECT_EQ(train->count, 15);
    EXPECT_EQ(train->channels, 3);
    EXPECT_EQ(train->height, 32);
    EXPECT_EQ(train->labels[14], 4);
    EXPECT_EQ(train->mean, (std::vector<float>{0.4914f, 0.4822f, 0.4465f}));
    EXPECT_EQ(train->stddev, (std::vector<float>{0.2470f, 0.2435f, 0.2616f}));
    auto test = LoadDataset("cifar10", dir, Split::kTest);
    ASSERT_TRUE(test.ok()) << test.status();
    EXPECT_EQ(test->count, 3);
    EXPECT_EQ(test->labels[0], 5);
  }
}

TEST(DatasetTest, MissingCifar10DirectoryListsTheExpectedFiles) {
  const std::string dir = TestPath("no_cifar");
  auto dataset = LoadDataset("cifar10", dir, Split::kTest);
  ASSERT_FALSE(dataset.ok());
  EXPECT_THAT(Message(dataset.status()), HasSubstr(dir + " does not exist"));
  EXPECT_THAT(Message(dataset.status()), HasSubstr("data_batch_5.bin, test_batch.bin"));
}

TEST(DatasetTest, UnknownNamesAreErrors) {
  EXPECT_THAT(
      Message(LoadDataset("imagenet", "/tmp", Split::kTrain).status()),
      HasSubstr("unknown dataset \"imagenet\"; expected fashion_mnist, cifar10 or synthetic"));
  EXPECT_EQ(*ParseSplit("test"), Split::kTest);
  EXPECT_THAT(Message(ParseSplit("validation").status()),
              HasSubstr("unknown split \"validation\""));
}

TEST(SyntheticDatasetTest, IsAPureFunctionOfTheOptions) {
  SyntheticOptions options;
  options.train_count = 50;
  options.test_count = 20;
  options.channels = 2;
  options.height = 3;
  options.width = 5;
  options.num_classes = 3;
  options.seed = 7;
  auto first = LoadDataset("synthetic", "", Split::kTrain, options);
  auto again = LoadDataset("synthetic", "", Split::kTrain, options);
  auto test = LoadDataset("synthetic", "", Split::kTest, options);
  ASSERT_TRUE(first.ok() && again.ok() && test.ok());
  EXPECT_EQ(first->count, 50);
  EXPECT_EQ(test->count, 20);
  EXPECT_EQ(first->pixels.size(), 50u * 2 * 3 * 5);
  EXPECT_EQ(first->pixels, again->pixels);
  EXPECT_EQ(first->labels, again->labels);
  EXPECT_NE(std::vector<uint8_t>(first->pixels.begin(), first->pixels.begin() + 600), test->pixels);
  for (int32_t label : first->labels) EXPECT_TRUE(label >= 0 && label < 3) << label;
  SyntheticOptions reseeded = options;
  reseeded.seed = 8;
  EXPECT_NE(LoadDataset("synthetic", "", Split::kTrain, reseeded)->pixels, first->pixels);
}

TEST(SyntheticDatasetTest, ClassesDifferInMeanIntensity) {
  SyntheticOptions options;
  options.train_count = 400;
  options.channels = 1;
  options.height = 4;
  options.width = 4;
  auto dataset = LoadDataset("synthetic", "", Split::kTrain, options);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  std::vector<double> sum(4, 0.0), count(4, 0.0);
  for (int64_t i = 0; i < dataset->count; ++i) {
    for (int64_t k = 0; k < 16; ++k) sum[dataset->labels[i]] += dataset->image(i)[k];
    count[dataset->labels[i]] += 16;
  }
  // Every class is present and its mean sits well apart from the next one's.
  for (int label = 0; label < 4; ++label) ASSERT_GT(count[label], 0) << label;
  for (int label = 1; label < 4; ++label) {
    EXPECT_GT(sum[label] / count[label], sum[label - 1] / count[label - 1] + 40) << label;
  }
  // Its normalisation constants are its own statistics.
  const ChannelStats stats = ComputeChannelStats(*dataset);
  EXPECT_EQ(dataset->mean, stats.mean);
  EXPECT_EQ(dataset->stddev, stats.stddev);
  EXPECT_GT(stats.stddev[0], 0.1f);
}

TEST(SyntheticDatasetTest, RejectsEmptyShapes) {
  SyntheticOptions options;
  options.height = 0;
  EXPECT_THAT(Message(LoadDataset("synthetic", "", Split::kTrain, options).status()),
              HasSubstr("synthetic dataset"));
}

TEST(ChannelStatsTest, MatchesHandComputedValues) {
  Dataset dataset;
  dataset.count = 2;
  dataset.channels = 2;
  dataset.height = 1;
  dataset.width = 1;
  dataset.pixels = {0, 255, 255, 255};
  const ChannelStats stats = ComputeChannelStats(dataset);
  EXPECT_FLOAT_EQ(stats.mean[0], 0.5f);
  EXPECT_FLOAT_EQ(stats.stddev[0], 0.5f);
  EXPECT_FLOAT_EQ(stats.mean[1], 1.0f);
  EXPECT_FLOAT_EQ(stats.stddev[1], 0.0f);
}

TEST(RealFashionMnistTest, LoadsDebiansCopyWithThePublishedStatistics) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << dir << " is absent (tools/setup.sh installs Debian's dataset-fashion-mnist)";
  }
  auto train = LoadDataset("fashion_mnist", dir, Split::kTrain);
  auto test = LoadDataset("fashion_mnist", dir, Split::kTest);
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(train->count, 60000);
  EXPECT_EQ(test->count, 10000);
  EXPECT_EQ(train->height, 28);
  EXPECT_EQ(train->width, 28);
  // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
  std::vector<int> train_counts(10, 0), test_counts(10, 0);
  for (int32_t label : train->labels) ++train_counts.at(label);
  for (int32_t label : test->labels) ++test_counts.at(label);
  EXPECT_EQ(train_counts, std::vector<int>(10, 6000));
  EXPECT_EQ(test_counts, std::vector<int>(10, 1000));
  // The published constants are this training set's statistics.
  const ChannelStats stats = ComputeChannelStats(*train);
  EXPECT_NEAR(stats.mean[0], train->mean[0], 5e-4);
  EXPECT_NEAR(stats.stddev[0], train->stddev[0], 5e-4);
}

}  // namespace
}  // namespace ald
