#include "data/prefetch.h"

#include <atomic>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

// A producer that writes its position into every element and counts its calls.
BatchPrefetcher::Produce CountingProducer(std::atomic<int>& calls, int64_t fail_at = -1) {
  return [&calls, fail_at](int64_t position, std::span<float> images, std::span<int32_t> labels) {
    ++calls;
    if (position == fail_at) return absl::DataLossError("disk went away");
    std::fill(images.begin(), images.end(), static_cast<float>(position));
    std::fill(labels.begin(), labels.end(), static_cast<int32_t>(position));
    return absl::OkStatus();
  };
}

TEST(BatchPrefetcherTest, DeliversPositionsInOrder) {
  std::atomic<int> calls = 0;
  BatchPrefetcher prefetcher(CountingProducer(calls), 5, 6, 2);
  std::vector<float> images(6);
  std::vector<int32_t> labels(2);
  for (int64_t position = 5; position < 25; ++position) {
    ASSERT_TRUE(prefetcher.Next(images, labels).ok());
    EXPECT_EQ(images, std::vector<float>(6, static_cast<float>(position)));
    EXPECT_EQ(labels, std::vector<int32_t>(2, static_cast<int32_t>(position)));
  }
}

TEST(BatchPrefetcherTest, RunsAtMostDepthBatchesAhead) {
  std::atomic<int> calls = 0;
  BatchPrefetcher prefetcher(CountingProducer(calls), 0, 4, 1, /*depth=*/2);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (calls < 2 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  absl::SleepFor(absl::Milliseconds(50));  // room for a third call, were the bound broken
  EXPECT_EQ(calls, 2);
  std::vector<float> images(4);
  std::vector<int32_t> labels(1);
  ASSERT_TRUE(prefetcher.Next(images, labels).ok());
  while (calls < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(calls, 3);
}

TEST(BatchPrefetcherTest, StopsCleanlyWithBatchesStillQueued) {
  std::atomic<int> calls = 0;
  {
    BatchPrefetcher prefetcher(CountingProducer(calls), 0, 4, 1);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (calls < 2 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  }  // the producer is blocked on a full queue here; destruction must still return
  EXPECT_EQ(calls, 2);
}

TEST(BatchPrefetcherTest, ProducerErrorsReachTheConsumerAfterEarlierBatches) {
  std::atomic<int> calls = 0;
  BatchPrefetcher prefetcher(CountingProducer(calls, /*fail_at=*/3), 0, 4, 1);
  std::vector<float> images(4);
  std::vector<int32_t> labels(1);
  for (int position = 0; position < 3; ++position) {
    ASSERT_TRUE(prefetcher.Next(images, labels).ok());
    EXPECT_EQ(labels[0], position);
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    const absl::Status status = prefetcher.Next(images, labels);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(std::string(status.message()), "disk went away");
  }
}

TEST(BatchPrefetcherTest, WrongBufferSizeIsAnError) {
  std::atomic<int> calls = 0;
  BatchPrefetcher prefetcher(CountingProducer(calls), 0, 4, 1);
  std::vector<float> images(3);
  std::vector<int32_t> labels(1);
  EXPECT_THAT(std::string(prefetcher.Next(images, labels).message()),
              ::testing::HasSubstr("hold 4 image floats and 1 labels; asked to fill 3 and 1"));
}

}  // namespace
}  // namespace ald
