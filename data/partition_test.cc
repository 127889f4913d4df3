#include "data/partition.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <string>

#include "data/shard.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

// `classes` labels with `per_class` examples each, interleaved (0, 1, ..., 0, 1, ...).
std::vector<int32_t> BalancedLabels(int classes, int per_class) {
  std::vector<int32_t> labels;
  for (int i = 0; i < per_class; ++i) {
    for (int c = 0; c < classes; ++c) labels.push_back(c);
  }
  return labels;
}

std::vector<std::vector<int64_t>> Split(const std::vector<int32_t>& labels, int classes,
                                        int workers, const std::string& spec, uint64_t seed = 7,
                                        int64_t min_examples = 1) {
  absl::StatusOr<PartitionSpec> parsed = ParsePartition(spec);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  auto split = PartitionExamples(labels, classes, workers, seed, *parsed, min_examples);
  EXPECT_TRUE(split.ok()) << split.status();
  return split.value_or(std::vector<std::vector<int64_t>>{});
}

// The examples of all workers together, each at most once.
std::set<int64_t> DisjointUnion(const std::vector<std::vector<int64_t>>& split) {
  std::set<int64_t> all;
  size_t total = 0;
  for (const std::vector<int64_t>& shard : split) {
    all.insert(shard.begin(), shard.end());
    total += shard.size();
  }
  EXPECT_EQ(all.size(), total) << "a worker's example is another's too";
  return all;
}

TEST(ParsePartitionTest, KindsAndTheirParameters) {
  EXPECT_EQ(ParsePartition("reshuffle")->kind, PartitionKind::kReshuffle);
  EXPECT_EQ(ParsePartition("fixed")->kind, PartitionKind::kFixed);
  EXPECT_EQ(ParsePartition("dirichlet:0.1")->kind, PartitionKind::kDirichlet);
  EXPECT_DOUBLE_EQ(ParsePartition("dirichlet:0.1")->alpha, 0.1);
  EXPECT_EQ(ParsePartition("shards:2")->shards_per_worker, 2);
  for (const char* bad : {"dirichlet:0", "dirichlet:-1", "dirichlet:nan", "dirichlet:inf",
                          "dirichlet", "shards:0", "shards:1.5", "shards:", "iid", "fixed:1"}) {
    absl::StatusOr<PartitionSpec> spec = ParsePartition(bad);
    ASSERT_FALSE(spec.ok()) << bad;
    EXPECT_THAT(std::string(spec.status().message()), HasSubstr(kPartitionExpected)) << bad;
  }
}

TEST(PartitionTest, FixedIsEpochZerosEqualShardsKeptForTheRun) {
  const std::vector<int32_t> labels = BalancedLabels(10, 103);  // 1030 examples
  const auto split = Split(labels, 10, 4, "fixed");
  ASSERT_EQ(split.size(), 4u);
  EXPECT_EQ(DisjointUnion(split).size(), 4u * 257);
  const std::vector<int64_t> epoch0 = EpochPermutation(1030, 7, 0);
  for (int w = 0; w < 4; ++w) {
    std::vector<int64_t> expected(epoch0.begin() + 257 * w, epoch0.begin() + 257 * (w + 1));
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(split[w], expected);
  }
  EXPECT_EQ(Split(labels, 10, 4, "fixed"), split);  // a function of the seed alone
  EXPECT_NE(Split(labels, 10, 4, "fixed", /*seed=*/8), split);
}

// E[share] = 1/W, Var[share] = (1/W)(1 - 1/W) / (W alpha + 1) for each worker's share of a
// class under Dir(alpha, ..., alpha): the variance is what alpha controls.
TEST(PartitionTest, DirichletSharesHaveTheDirichletVariance) {
  const int classes = 60, workers = 4, per_class = 1000;
  const std::vector<int32_t> labels = BalancedLabels(classes, per_class);
  for (double alpha : {0.1, 0.5, 5.0}) {
    const auto split = Split(labels, classes, workers, "dirichlet:" + std::to_string(alpha));
    // Every example goes to exactly one worker.
    EXPECT_EQ(DisjointUnion(split).size(), labels.size());
    double sum = 0, sum_squares = 0;
    int values = 0;
    for (const std::vector<int64_t>& shard : split) {
      const std::vector<int64_t> histogram = LabelHistogram(labels, shard, classes);
      for (int64_t count : histogram) {
        const double share = static_cast<double>(count) / per_class;
        sum += share;
        sum_squares += share * share;
        ++values;
      }
    }
    const double mean = sum / values;
    const double variance = sum_squares / values - mean * mean;
    const double expected = (1.0 / workers) * (1.0 - 1.0 / workers) / (workers * alpha + 1);
    EXPECT_NEAR(mean, 1.0 / workers, 1e-12);
    EXPECT_NEAR(variance, expected, 0.25 * expected) << "alpha " << alpha;
  }
}

TEST(PartitionTest, DirichletRedrawsUntilEveryWorkerHasABatchOrSaysSo) {
  const std::vector<int32_t> labels = BalancedLabels(10, 100);
  for (const std::vector<int64_t>& shard : Split(labels, 10, 8, "dirichlet:0.1", 3, 32)) {
    EXPECT_GE(shard.size(), 32u);
  }
  auto impossible = PartitionExamples(labels, 10, 8, 3, *ParsePartition("dirichlet:0.01"), 130);
  ASSERT_FALSE(impossible.ok());
  EXPECT_THAT(std::string(impossible.status().message()), HasSubstr("fewer than 130"));
  // Nearly every class goes to one worker whole: no worker gets 110 without two classes.
  auto unlikely = PartitionExamples(labels, 10, 8, 3, *ParsePartition("dirichlet:0.001"), 110);
  ASSERT_FALSE(unlikely.ok());
  EXPECT_THAT(std::string(unlikely.status().message()), HasSubstr("use a larger ALPHA"));
}

TEST(PartitionTest, ShardsGiveEachWorkerKLabelSortedShards) {
  // 10 classes of 100: 5 workers x 2 shards of 100, each shard one whole class.
  const std::vector<int32_t> labels = BalancedLabels(10, 100);
  const auto split = Split(labels, 10, 5, "shards:2");
  EXPECT_EQ(DisjointUnion(split).size(), 1000u);
  for (const std::vector<int64_t>& shard : split) {
    const std::vector<int64_t> histogram = LabelHistogram(labels, shard, 10);
    EXPECT_EQ(std::count(histogram.begin(), histogram.end(), 100), 2);
    EXPECT_EQ(std::count(histogram.begin(), histogram.end(), 0), 8);
  }
  // Shards of 50: still at most K labels' worth of sorted runs per worker (2 labels each here).
  for (const std::vector<int64_t>& shard : Split(labels, 10, 10, "shards:2")) {
    const std::vector<int64_t> histogram = LabelHistogram(labels, shard, 10);
    EXPECT_LE(10 - std::count(histogram.begin(), histogram.end(), 0), 2);
    EXPECT_EQ(shard.size(), 100u);
  }
  auto too_many = PartitionExamples(labels, 10, 8, 1, *ParsePartition("shards:200"), 1);
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(std::string(too_many.status().message()), HasSubstr("cannot make 1600 shards"));
}

TEST(PartitionTest, HistogramsOfEveryKind) {
  const std::vector<int32_t> labels = BalancedLabels(4, 50);
  for (const char* spec : {"reshuffle", "fixed", "dirichlet:1", "shards:1"}) {
    auto histograms = WorkerLabelHistograms(labels, 4, 2, 5, *ParsePartition(spec), 1);
    ASSERT_TRUE(histograms.ok()) << histograms.status();
    ASSERT_EQ(histograms->size(), 2u);
    int64_t total = 0;
    for (const auto& histogram : *histograms) total += std::accumulate(histogram.begin(), histogram.end(), int64_t{0});
    EXPECT_EQ(total, 200) << spec;
  }
}

// Walking a fixed shard (shard.h): every worker takes floor(N / W / B) steps; within an epoch
// each pass uses every example of the shard once; the shard is the same every epoch.
TEST(PartitionWalkTest, EachPassUsesEveryExampleOnceAndEpochsKeepTheShard) {
  ShardOptions options{.count = 100, .num_workers = 4, .worker = 1, .batch_size = 5, .seed = 3,
                       .shuffle = true, .own_examples = {}};
  // Shard of 7 < the epoch's 25: 3 full passes and 4 of a fourth.
  options.own_examples = {2, 9, 17, 40, 41, 77, 90};
  auto shards = EpochShards::Create(options, "test");
  ASSERT_TRUE(shards.ok()) << shards.status();
  EXPECT_EQ(shards->steps_per_epoch(), 5);
  std::vector<std::vector<int64_t>> epochs;
  for (int64_t epoch : {0, 1}) {
    std::vector<int64_t> used;
    for (int64_t step = 0; step < 5; ++step) {
      const auto batch = shards->BatchIndices(epoch, step);
      used.insert(used.end(), batch.begin(), batch.end());
    }
    for (size_t pass = 0; pass < 3; ++pass) {
      std::vector<int64_t> one(used.begin() + 7 * pass, used.begin() + 7 * (pass + 1));
      std::sort(one.begin(), one.end());
      EXPECT_EQ(one, options.own_examples) << "epoch " << epoch << " pass " << pass;
    }
    const std::set<int64_t> tail(used.begin() + 21, used.end());
    EXPECT_EQ(tail.size(), 4u);
    epochs.push_back(used);
  }
  EXPECT_NE(epochs[0], epochs[1]);  // a fresh order each epoch, the same examples

  // fixed with N / W a multiple of B: each example of the shard exactly once per epoch.
  const std::vector<int32_t> labels = BalancedLabels(4, 40);  // 160 = 4 workers x 40
  const auto split = Split(labels, 4, 4, "fixed");
  options = {.count = 160, .num_workers = 4, .worker = 2, .batch_size = 8, .seed = 7,
             .shuffle = true, .own_examples = split[2]};
  auto fixed = EpochShards::Create(options, "test");
  ASSERT_TRUE(fixed.ok());
  for (int64_t epoch : {0, 1, 2}) {
    std::vector<int64_t> used;
    for (int64_t step = 0; step < fixed->steps_per_epoch(); ++step) {
      const auto batch = fixed->BatchIndices(epoch, step);
      used.insert(used.end(), batch.begin(), batch.end());
    }
    std::sort(used.begin(), used.end());
    EXPECT_EQ(used, split[2]) << "epoch " << epoch;
  }
}

TEST(PartitionWalkTest, AnExampleOutsideTheDatasetIsAnError) {
  ShardOptions options{.count = 10, .num_workers = 2, .worker = 0, .batch_size = 1, .seed = 3,
                       .shuffle = true, .own_examples = {3, 10}};
  EXPECT_THAT(std::string(EpochShards::Create(options, "x").status().message()),
              HasSubstr("example 10 of worker 0's shard is outside [0, 10)"));
}

}  // namespace
}  // namespace ald
