#include "data/shard.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

ShardOptions Options(int64_t count, int num_workers, int worker, int64_t batch_size) {
  ShardOptions options;
  options.count = count;
  options.num_workers = num_workers;
  options.worker = worker;
  options.batch_size = batch_size;
  options.seed = 11;
  return options;
}

// Every index worker `worker` trains on in `epoch`, in order.
std::vector<int64_t> EpochIndices(const ShardOptions& options, int64_t epoch) {
  auto shards = EpochShards::Create(options, "test");
  EXPECT_TRUE(shards.ok()) << shards.status();
  std::vector<int64_t> indices;
  for (int64_t step = 0; step < shards->steps_per_epoch(); ++step) {
    const std::span<const int64_t> batch = shards->BatchIndices(epoch, step);
    indices.insert(indices.end(), batch.begin(), batch.end());
  }
  return indices;
}

TEST(EpochPermutationTest, IsAPermutationThatChangesWithEpochAndSeed) {
  const std::vector<int64_t> epoch0 = EpochPermutation(1000, 5, 0);
  std::vector<int64_t> sorted = epoch0;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(EpochPermutation(1000, 5, 0), epoch0);
  EXPECT_NE(EpochPermutation(1000, 5, 1), epoch0);
  EXPECT_NE(EpochPermutation(1000, 6, 0), epoch0);
}

TEST(EpochShardsTest, ShardsAreDisjointEqualAndCutFromOneSharedPermutation) {
  // 103 examples over 4 workers: 25 each, batches of 5, the remaining 3 dropped this epoch.
  for (int64_t epoch : {0, 1}) {
    const std::vector<int64_t> permutation = EpochPermutation(103, 11, epoch);
    std::set<int64_t> seen;
    for (int worker = 0; worker < 4; ++worker) {
      const std::vector<int64_t> indices = EpochIndices(Options(103, 4, worker, 5), epoch);
      ASSERT_EQ(indices.size(), 25u);
      EXPECT_TRUE(std::equal(indices.begin(), indices.end(), permutation.begin() + 25 * worker));
      seen.insert(indices.begin(), indices.end());
    }
    EXPECT_EQ(seen.size(), 100u);
  }
}

TEST(EpochShardsTest, EveryWorkerTakesTheSameNumberOfSteps) {
  for (int worker = 0; worker < 3; ++worker) {
    auto shards = EpochShards::Create(Options(100, 3, worker, 8), "test");
    ASSERT_TRUE(shards.ok());
    EXPECT_EQ(shards->shard_size(), 33);
    EXPECT_EQ(shards->steps_per_epoch(), 4);  // 33 / 8: the partial batch is dropped
  }
}

TEST(EpochShardsTest, OrderChangesPerEpochUnlessShufflingIsOff) {
  const ShardOptions shuffled = Options(64, 2, 1, 4);
  EXPECT_NE(EpochIndices(shuffled, 0), EpochIndices(shuffled, 1));
  ShardOptions in_order = shuffled;
  in_order.shuffle = false;
  std::vector<int64_t> expected(32);
  std::iota(expected.begin(), expected.end(), int64_t{32});
  EXPECT_EQ(EpochIndices(in_order, 0), expected);
  EXPECT_EQ(EpochIndices(in_order, 3), expected);
}

TEST(EpochShardsTest, BadOptionsAreErrorsNamingTheDataset) {
  auto message = [](const ShardOptions& options) {
    return std::string(EpochShards::Create(options, "cifar10/train").status().message());
  };
  EXPECT_EQ(message(Options(100, 4, 4, 5)), "cifar10/train: worker 4 is outside [0, 4)");
  EXPECT_EQ(message(Options(100, 4, 0, 0)), "cifar10/train: batch size 0 is not positive");
  EXPECT_EQ(message(Options(100, 4, 0, 32)),
            "cifar10/train: 100 examples give each of 4 workers 25, fewer than one batch of 32");
}

}  // namespace
}  // namespace ald
