#include "data/eval_batches.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

// Ten 1x1x1 images whose pixel is their index; mean 0, stddev 1/255, so floats equal indices.
Dataset CountingDataset() {
  Dataset dataset;
  dataset.name = "counting";
  dataset.count = 10;
  dataset.channels = dataset.height = dataset.width = 1;
  dataset.num_classes = 10;
  for (int i = 0; i < 10; ++i) {
    dataset.pixels.push_back(static_cast<uint8_t>(i));
    dataset.labels.push_back(9 - i);
  }
  dataset.mean = {0.0f};
  dataset.stddev = {1.0f / 255.0f};
  return dataset;
}

TEST(EvalBatchesTest, WalksTheWholeDatasetInOrderWithAPartialLastBatch) {
  const Dataset dataset = CountingDataset();
  auto batches = EvalBatches::Create(dataset, 4);
  ASSERT_TRUE(batches.ok()) << batches.status();
  EXPECT_EQ(batches->num_batches(), 3);
  Tensor images = *Tensor::Create(Shape{4, 1, 1, 1});
  Tensor labels = *Tensor::Create(Shape{4}, DType::kI32);
  images.Fill(-1.0f);
  std::vector<int64_t> sizes;
  std::vector<float> seen;
  for (int batch = 0; batch < 3; ++batch) {
    auto size = batches->Next(images, labels);
    ASSERT_TRUE(size.ok()) << size.status();
    sizes.push_back(*size);
    for (int64_t i = 0; i < *size; ++i) {
      seen.push_back(images.values<float>()[i]);
      EXPECT_EQ(labels.values<int32_t>()[i],
                9 - static_cast<int32_t>(images.values<float>()[i] + 0.5f));
    }
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(seen[i], i, 1e-4);
  // Rows past the real ones are zeroed, labels included.
  EXPECT_EQ(images.values<float>()[2], 0.0f);
  EXPECT_EQ(labels.values<int32_t>()[3], 0);
  EXPECT_EQ(*batches->Next(images, labels), 0);

  batches->Restart();
  EXPECT_EQ(*batches->Next(images, labels), 4);
  EXPECT_NEAR(images.values<float>()[0], 0.0f, 1e-4);
}

// Shards share the batches out round-robin: together they see every example once, each in the
// batch (and at the row) the whole evaluation puts it in; a shard with no batch left sees none.
TEST(EvalBatchesTest, ShardsTakeEveryNthBatchOfTheWholeSequence) {
  const Dataset dataset = CountingDataset();  // batches of 3: {0,1,2} {3,4,5} {6,7,8} {9}
  Tensor images = *Tensor::Create(Shape{3, 1, 1, 1});
  Tensor labels = *Tensor::Create(Shape{3}, DType::kI32);
  const std::vector<std::vector<std::vector<int>>> expected = {{{0, 1, 2}, {9}},
                                                               {{3, 4, 5}},
                                                               {{6, 7, 8}}};
  for (int shard = 0; shard < 3; ++shard) {
    auto batches = EvalBatches::Create(dataset, 3, shard, 3);
    ASSERT_TRUE(batches.ok()) << batches.status();
    std::vector<std::vector<int>> seen;
    while (true) {
      auto size = batches->Next(images, labels);
      ASSERT_TRUE(size.ok()) << size.status();
      if (*size == 0) break;
      seen.emplace_back();
      for (int64_t i = 0; i < *size; ++i) {
        seen.back().push_back(static_cast<int>(images.values<float>()[i] + 0.5f));
      }
    }
    EXPECT_EQ(seen, expected[shard]) << "shard " << shard;
  }
  auto past_the_end = EvalBatches::Create(dataset, 4, 3, 5);  // 3 batches, shard 3 of 5
  ASSERT_TRUE(past_the_end.ok());
  Tensor four_images = *Tensor::Create(Shape{4, 1, 1, 1});
  Tensor four_labels = *Tensor::Create(Shape{4}, DType::kI32);
  EXPECT_EQ(*past_the_end->Next(four_images, four_labels), 0);
  EXPECT_THAT(std::string(EvalBatches::Create(dataset, 4, 2, 2).status().message()),
              ::testing::HasSubstr("counting: evaluation shard 2 of 2: expected an index"));
}

TEST(EvalBatchesTest, RejectsBadBatchSizesAndTensors) {
  const Dataset dataset = CountingDataset();
  EXPECT_THAT(std::string(EvalBatches::Create(dataset, 0).status().message()),
              ::testing::HasSubstr("counting: evaluation batch size 0 is not positive"));
  auto batches = EvalBatches::Create(dataset, 4);
  ASSERT_TRUE(batches.ok());
  Tensor images = *Tensor::Create(Shape{4, 1, 1, 1});
  Tensor labels = *Tensor::Create(Shape{3}, DType::kI32);
  EXPECT_THAT(std::string(batches->Next(images, labels).status().message()),
              ::testing::HasSubstr("labels tensor is i32[3] cpu, expected i32[4] cpu"));
}

}  // namespace
}  // namespace ald
