#include "data/loader.h"

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

// Images that say which example they are: 1x1x2 pixels (index % 256, index / 256), mean 0,
// stddev 1, so a batch's floats decode back to dataset indices.
Dataset IndexedDataset(int64_t count) {
  Dataset dataset;
  dataset.name = "indexed";
  dataset.count = count;
  dataset.channels = 1;
  dataset.height = 1;
  dataset.width = 2;
  dataset.num_classes = 10;
  for (int64_t i = 0; i < count; ++i) {
    dataset.pixels.push_back(static_cast<uint8_t>(i % 256));
    dataset.pixels.push_back(static_cast<uint8_t>(i / 256));
    dataset.labels.push_back(static_cast<int32_t>(i % 10));
  }
  dataset.mean = {0.0f};
  dataset.stddev = {1.0f};
  return dataset;
}

Dataset AugmentableDataset() {
  SyntheticOptions options;
  options.train_count = 96;
  options.channels = 3;
  options.height = 6;
  options.width = 6;
  auto dataset = LoadDataset("synthetic", "", Split::kTrain, options);
  EXPECT_TRUE(dataset.ok()) << dataset.status();
  return *std::move(dataset);
}

LoaderOptions Options(int64_t batch_size, int worker = 0, int num_workers = 1) {
  LoaderOptions options;
  options.batch_size = batch_size;
  options.worker = worker;
  options.num_workers = num_workers;
  options.seed = 21;
  return options;
}

struct Batch {
  std::vector<float> images;
  std::vector<int32_t> labels;
  bool operator==(const Batch&) const = default;
};

// The next `steps` batches of `loader`.
std::vector<Batch> Take(BatchLoader& loader, const Dataset& dataset, int64_t batch_size,
                        int steps) {
  Tensor images =
      *Tensor::Create(Shape{batch_size, dataset.channels, dataset.height, dataset.width});
  Tensor labels = *Tensor::Create(Shape{batch_size}, DType::kI32);
  std::vector<Batch> batches;
  for (int step = 0; step < steps; ++step) {
    const absl::Status status = loader.Next(images, labels);
    EXPECT_TRUE(status.ok()) << status;
    batches.push_back({{images.values<float>().begin(), images.values<float>().end()},
                       {labels.values<int32_t>().begin(), labels.values<int32_t>().end()}});
  }
  return batches;
}

std::vector<int64_t> DecodeIndices(const std::vector<Batch>& batches) {
  std::vector<int64_t> indices;
  for (const Batch& batch : batches) {
    for (size_t i = 0; i < batch.labels.size(); ++i) {
      const int64_t index = std::lround(batch.images[2 * i] * 255.0f) +
                            256 * std::lround(batch.images[2 * i + 1] * 255.0f);
      EXPECT_EQ(batch.labels[i], index % 10) << "label travels with its image";
      indices.push_back(index);
    }
  }
  return indices;
}

std::unique_ptr<BatchLoader> MakeLoader(const Dataset& dataset, const LoaderOptions& options,
                                        LoaderPosition start = {}) {
  auto loader = BatchLoader::Create(dataset, options, start);
  EXPECT_TRUE(loader.ok()) << loader.status();
  return loader.ok() ? *std::move(loader) : nullptr;
}

TEST(BatchLoaderTest, WorkersGetDisjointEqualShardsOfOneEpoch) {
  const Dataset dataset = IndexedDataset(1003);
  std::set<int64_t> seen;
  for (int worker = 0; worker < 4; ++worker) {
    auto loader = MakeLoader(dataset, Options(10, worker, 4));
    ASSERT_NE(loader, nullptr);
    EXPECT_EQ(loader->steps_per_epoch(), 25);  // 250 examples per worker
    const std::vector<int64_t> indices = DecodeIndices(Take(*loader, dataset, 10, 25));
    EXPECT_EQ(std::set<int64_t>(indices.begin(), indices.end()).size(), 250u);
    seen.insert(indices.begin(), indices.end());
    EXPECT_EQ(loader->position(), (LoaderPosition{1, 0}));
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(BatchLoaderTest, OrderChangesFromEpochToEpoch) {
  const Dataset dataset = IndexedDataset(200);
  auto loader = MakeLoader(dataset, Options(20));
  ASSERT_NE(loader, nullptr);
  const std::vector<int64_t> epoch0 = DecodeIndices(Take(*loader, dataset, 20, 10));
  const std::vector<int64_t> epoch1 = DecodeIndices(Take(*loader, dataset, 20, 10));
  EXPECT_NE(epoch0, epoch1);
  EXPECT_EQ(std::set<int64_t>(epoch1.begin(), epoch1.end()).size(), 200u);
}

TEST(BatchLoaderTest, PrefetchingChangesNothingButTiming) {
  const Dataset dataset = AugmentableDataset();
  LoaderOptions options = Options(8, 1, 2);
  options.augment = true;
  auto prefetched = MakeLoader(dataset, options);
  options.prefetch = false;
  auto direct = MakeLoader(dataset, options);
  ASSERT_NE(prefetched, nullptr);
  ASSERT_NE(direct, nullptr);
  EXPECT_EQ(Take(*prefetched, dataset, 8, 15), Take(*direct, dataset, 8, 15));  // 2.5 epochs
}

TEST(BatchLoaderTest, ResumingGivesTheUninterruptedBatches) {
  const Dataset dataset = AugmentableDataset();
  LoaderOptions options = Options(8, 0, 2);
  options.augment = true;
  auto uninterrupted = MakeLoader(dataset, options);
  ASSERT_NE(uninterrupted, nullptr);
  ASSERT_EQ(uninterrupted->steps_per_epoch(), 6);
  const std::vector<Batch> all = Take(*uninterrupted, dataset, 8, 18);
  const std::vector<Batch> from_epoch1_step2(all.begin() + 8, all.end());

  // A fresh loader constructed at the position, as after a restart from a checkpoint.
  auto restarted = MakeLoader(dataset, options, {1, 2});
  ASSERT_NE(restarted, nullptr);
  EXPECT_EQ(Take(*restarted, dataset, 8, 10), from_epoch1_step2);

  // A running loader with batches already prefetched, told to seek, with or without prefetch.
  for (bool prefetch : {true, false}) {
    options.prefetch = prefetch;
    auto running = MakeLoader(dataset, options);
    ASSERT_NE(running, nullptr);
    Take(*running, dataset, 8, 3);
    ASSERT_TRUE(running->Seek({1, 2}).ok());
    EXPECT_EQ(running->position(), (LoaderPosition{1, 2}));
    EXPECT_EQ(Take(*running, dataset, 8, 10), from_epoch1_step2);
  }
}

TEST(BatchLoaderTest, AugmentationChangesWithTheStep) {
  const Dataset dataset = AugmentableDataset();
  LoaderOptions options = Options(8);
  options.shuffle = false;
  auto plain = MakeLoader(dataset, options);
  options.augment = true;
  auto augmented = MakeLoader(dataset, options);
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(augmented, nullptr);
  ASSERT_EQ(plain->steps_per_epoch(), 12);
  // Without shuffling, steps 0 and 12 (epoch 1) hold the same examples; only augmentation differs.
  const std::vector<Batch> plain_batches = Take(*plain, dataset, 8, 13);
  const std::vector<Batch> augmented_batches = Take(*augmented, dataset, 8, 13);
  EXPECT_EQ(plain_batches[0], plain_batches[12]);
  EXPECT_NE(augmented_batches[0], plain_batches[0]);
  EXPECT_NE(augmented_batches[0], augmented_batches[12]);
  EXPECT_EQ(augmented_batches[0].labels, plain_batches[0].labels);
  EXPECT_EQ(augmented_batches[0].images.size(), plain_batches[0].images.size());
}

TEST(BatchLoaderTest, DestroyingWhilePrefetchingReturns) {
  const Dataset dataset = AugmentableDataset();
  auto loader = MakeLoader(dataset, Options(8));
  ASSERT_NE(loader, nullptr);
  Take(*loader, dataset, 8, 1);
  loader.reset();  // the prefetch thread is blocked on a full queue; this must not hang
  SUCCEED();
}

TEST(BatchLoaderTest, ErrorsNameWhatIsWrong) {
  const Dataset dataset = IndexedDataset(50);
  EXPECT_THAT(
      std::string(BatchLoader::Create(dataset, Options(30, 0, 2)).status().message()),
      HasSubstr("indexed: 50 examples give each of 2 workers 25, fewer than one batch of 30"));
  auto loader = MakeLoader(dataset, Options(5));
  ASSERT_NE(loader, nullptr);
  EXPECT_THAT(std::string(loader->Seek({0, 10}).message()),
              HasSubstr("indexed: cannot seek to epoch 0 step 10"));
  Tensor images = *Tensor::Create(Shape{4, 1, 1, 2});
  Tensor labels = *Tensor::Create(Shape{5}, DType::kI32);
  EXPECT_THAT(std::string(loader->Next(images, labels).message()),
              HasSubstr("images tensor is f32[4, 1, 1, 2] cpu, expected f32[5, 1, 1, 2] cpu"));
  EXPECT_EQ(loader->position(), (LoaderPosition{0, 0}));
}

}  // namespace
}  // namespace ald
