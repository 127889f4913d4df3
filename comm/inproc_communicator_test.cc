#include "comm/inproc_communicator.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

// Waits that should fail fast may still take a scheduler tick or two on a loaded 2-core machine;
// half a second of slack keeps the timing assertions meaningful without flaking.
constexpr absl::Duration kSlack = absl::Milliseconds(500);

std::shared_ptr<InprocWorld> MakeWorld(int size, absl::Duration timeout = absl::Seconds(20)) {
  auto world = InprocWorld::Create(size, {.timeout = timeout});
  EXPECT_TRUE(world.ok()) << world.status();
  return *world;
}

std::vector<std::unique_ptr<InprocCommunicator>> JoinAll(InprocWorld& world) {
  std::vector<std::unique_ptr<InprocCommunicator>> comms;
  for (int rank = 0; rank < world.size(); ++rank) {
    auto comm = world.Join(rank);
    EXPECT_TRUE(comm.ok()) << comm.status();
    comms.push_back(std::move(*comm));
  }
  return comms;
}

// Runs `body` on every rank, each in its own thread, and joins them.
void RunRanks(std::vector<std::unique_ptr<InprocCommunicator>>& comms,
              const std::function<void(Communicator&)>& body) {
  std::vector<std::thread> threads;
  for (auto& comm : comms) threads.emplace_back([&body, &comm] { body(*comm); });
  for (auto& thread : threads) thread.join();
}

std::span<const std::byte> Bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

TEST(InprocCommunicatorTest, MatchesByTagInPostingOrder) {
  auto world = MakeWorld(2);
  auto comms = JoinAll(*world);
  ASSERT_TRUE(comms[0]->Isend(1, 1, Bytes("a1")).Wait().ok());
  ASSERT_TRUE(comms[0]->Isend(1, 2, Bytes("b2")).Wait().ok());
  ASSERT_TRUE(comms[0]->Isend(1, 1, Bytes("c1")).Wait().ok());
  std::string first(2, ' '), second(2, ' '), third(2, ' ');
  ASSERT_TRUE(comms[1]->Irecv(0, 2, std::as_writable_bytes(std::span(second))).Wait().ok());
  ASSERT_TRUE(comms[1]->Irecv(0, 1, std::as_writable_bytes(std::span(first))).Wait().ok());
  ASSERT_TRUE(comms[1]->Irecv(0, 1, std::as_writable_bytes(std::span(third))).Wait().ok());
  EXPECT_EQ(first, "a1");
  EXPECT_EQ(second, "b2");
  EXPECT_EQ(third, "c1");
}

TEST(InprocCommunicatorTest, ReceivesPostedBeforeTheSendsCompleteInOrder) {
  auto world = MakeWorld(2);
  auto comms = JoinAll(*world);
  std::vector<float> first(3), second(3);
  Request a = comms[1]->Irecv(0, 7, std::span(first));
  Request b = comms[1]->Irecv(0, 7, std::span(second));
  EXPECT_FALSE(a.Test());
  const std::vector<float> one = {1, 2, 3}, two = {4, 5, 6};
  ASSERT_TRUE(comms[0]->Isend(1, 7, std::span(one)).Wait().ok());
  ASSERT_TRUE(comms[0]->Isend(1, 7, std::span(two)).Wait().ok());
  std::vector<Request> both;
  both.push_back(std::move(a));
  both.push_back(std::move(b));
  ASSERT_TRUE(WaitAll(std::span(both), absl::Seconds(5)).ok());
  EXPECT_EQ(first, one);
  EXPECT_EQ(second, two);
}

// A trace ends a transfer where it finished, not where the worker next tested it: a receive
// knows when its message was copied in, a send (finished at once here) when it was made.
TEST(InprocCommunicatorTest, RequestsKnowWhenTheyFinished) {
  auto world = MakeWorld(2);
  auto comms = JoinAll(*world);
  std::vector<float> received(1);
  Request receive = comms[0]->Irecv(1, 0, std::span(received));
  EXPECT_FALSE(receive.completion_time().has_value());  // nothing sent yet
  const std::vector<float> sent = {3.0f};
  const absl::Time before_send = absl::Now();
  Request send = comms[1]->Isend(0, 0, std::span(sent));
  const absl::Time after_send = absl::Now();
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_TRUE(receive.Test());
  ASSERT_TRUE(send.Test());
  for (const Request* request : {&receive, &send}) {
    const std::optional<absl::Time> finished = request->completion_time();
    ASSERT_TRUE(finished.has_value());
    EXPECT_GE(*finished, before_send);
    EXPECT_LE(*finished, after_send);  // not the test, 200 ms later
  }
  EXPECT_FALSE(Request().completion_time().has_value());  // nothing happened at all
}

TEST(InprocCommunicatorTest, TensorsTravelWhole) {
  auto world = MakeWorld(2);
  auto comms = JoinAll(*world);
  auto sent = Tensor::FromVector(Shape({2, 2}), {1.5f, -2, 3, 4});
  auto received = Tensor::Create(Shape({2, 2}));
  ASSERT_TRUE(sent.ok() && received.ok());
  ASSERT_TRUE(comms[0]->Isend(1, 0, *sent).Wait().ok());
  ASSERT_TRUE(comms[1]->Irecv(0, 0, *received).Wait().ok());
  EXPECT_EQ(received->at<float>({0, 0}), 1.5f);
  EXPECT_EQ(received->at<float>({1, 1}), 4.0f);
}

TEST(InprocCommunicatorTest, SizeMismatchIsAnErrorNotATruncation) {
  auto world = MakeWorld(2);
  auto comms = JoinAll(*world);
  const std::vector<float> four = {1, 2, 3, 4};
  ASSERT_TRUE(comms[0]->Isend(1, 3, std::span(four)).Wait().ok());
  std::vector<float> two(2, -1.0f);
  absl::Status status = comms[1]->Irecv(0, 3, std::span(two)).Wait();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("recv from rank 0 (tag 3, 8 bytes)"));
  EXPECT_THAT(status.message(), HasSubstr("sent 16 bytes"));
  EXPECT_EQ(two[0], -1.0f) << "a mismatched receive must leave its buffer untouched";
}

TEST(InprocCommunicatorTest, BadPeerIsAnError) {
  auto world = MakeWorld(2);
  auto comms = JoinAll(*world);
  std::vector<float> data(1);
  absl::Status status = comms[0]->Irecv(5, 0, std::span(data)).Wait();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("rank 5"));
}

TEST(InprocCommunicatorTest, AllReduceIsBitwiseIdenticalOnEveryRankAndSumsInRankOrder) {
  constexpr int kRanks = 4;
  constexpr size_t kCount = 1000;
  auto world = MakeWorld(kRanks);
  auto comms = JoinAll(*world);
  // Values of very different magnitude make the float sum depend on the order of addition.
  auto input = [](int rank, size_t i) {
    return (rank % 2 == 0 ? 1e7f : 1e-3f) * std::sin(static_cast<float>(i * (rank + 1)));
  };
  std::vector<std::vector<float>> sums(kRanks, std::vector<float>(kCount));
  std::vector<std::vector<float>> averages = sums;
  RunRanks(comms, [&](Communicator& comm) {
    const int r = comm.rank();
    for (size_t i = 0; i < kCount; ++i) sums[r][i] = averages[r][i] = input(r, i);
    EXPECT_TRUE(comm.AllReduce(std::span(sums[r]), ReduceOp::kSum).ok());
    EXPECT_TRUE(comm.AllReduce(std::span(averages[r]), ReduceOp::kAverage).ok());
  });
  for (size_t i = 0; i < kCount; ++i) {
    float expected = input(0, i);
    for (int rank = 1; rank < kRanks; ++rank) expected += input(rank, i);
    ASSERT_EQ(std::memcmp(&sums[0][i], &expected, sizeof(float)), 0) << "element " << i;
    const float expected_average = expected / kRanks;
    ASSERT_EQ(std::memcmp(&averages[0][i], &expected_average, sizeof(float)), 0);
  }
  for (int rank = 1; rank < kRanks; ++rank) {
    EXPECT_EQ(std::memcmp(sums[rank].data(), sums[0].data(), kCount * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(averages[rank].data(), averages[0].data(), kCount * sizeof(float)), 0);
  }
}

TEST(InprocCommunicatorTest, BroadcastCopiesTheRootsBuffer) {
  auto world = MakeWorld(3);
  auto comms = JoinAll(*world);
  std::vector<std::vector<float>> buffers(3, std::vector<float>(5, 0.0f));
  buffers[2] = {1, 2, 3, 4, 5};
  RunRanks(comms, [&](Communicator& comm) {
    EXPECT_TRUE(comm.Broadcast(std::span(buffers[comm.rank()]), 2).ok());
  });
  for (const auto& buffer : buffers) EXPECT_EQ(buffer, buffers[2]);
}

TEST(InprocCommunicatorTest, AllGatherPutsEveryRanksBytesInRankOrder) {
  auto world = MakeWorld(3);
  auto comms = JoinAll(*world);
  std::vector<std::string> gathered(3, std::string(6, ' '));
  RunRanks(comms, [&](Communicator& comm) {
    const std::string mine = {static_cast<char>('a' + comm.rank()), static_cast<char>('A' + comm.rank())};
    EXPECT_TRUE(
        comm.AllGather(Bytes(mine), std::as_writable_bytes(std::span(gathered[comm.rank()]))).ok());
  });
  for (const std::string& all : gathered) EXPECT_EQ(all, "aAbBcC");
}

TEST(InprocCommunicatorTest, AllGatherIntoTheWrongSizeIsAnError) {
  auto world = MakeWorld(2);
  auto comms = JoinAll(*world);
  std::string all(3, ' ');
  const absl::Status status =
      comms[0]->AllGather(Bytes("ab"), std::as_writable_bytes(std::span(all)));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("all-gather of 2 bytes from each of 2"));
}

TEST(InprocCommunicatorTest, BarrierHoldsEveryRankUntilAllArrive) {
  constexpr int kRanks = 4;
  auto world = MakeWorld(kRanks);
  auto comms = JoinAll(*world);
  std::atomic<int> arrived = 0;
  std::atomic<int> early = 0;
  RunRanks(comms, [&](Communicator& comm) {
    for (int round = 1; round <= 20; ++round) {
      ++arrived;
      EXPECT_TRUE(comm.Barrier().ok());
      if (arrived.load() < round * kRanks) ++early;
      EXPECT_TRUE(comm.Barrier().ok());  // nobody starts the next round before all have checked
    }
  });
  EXPECT_EQ(early.load(), 0);
}

TEST(InprocCommunicatorTest, WaitPastItsDeadlineIsDeadlineExceeded) {
  const absl::Duration timeout = absl::Milliseconds(200);
  auto world = MakeWorld(2, timeout);
  auto comms = JoinAll(*world);
  std::vector<float> data(2);
  const absl::Time start = absl::Now();
  absl::Status status = comms[0]->Irecv(1, 17, std::span(data)).Wait();
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status.message(), "recv from rank 1 (tag 17, 8 bytes) timed out after 0.2s");
  EXPECT_GE(elapsed, timeout);
  EXPECT_LT(elapsed, timeout + kSlack);
}

TEST(InprocCommunicatorTest, DeadPeerFailsPendingAndFutureCallsPromptly) {
  auto world = MakeWorld(3, absl::Seconds(30));
  auto comms = JoinAll(*world);
  std::vector<float> data(4);
  Request pending = comms[0]->Irecv(2, 5, std::span(data));
  std::thread killer([&] {
    absl::SleepFor(absl::Milliseconds(50));
    world->MarkDead(2);
  });
  const absl::Time start = absl::Now();
  absl::Status status = pending.Wait();
  killer.join();
  EXPECT_LT(absl::Now() - start, kSlack) << "a dead peer must not wait for the 30s timeout";
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "recv from rank 2 (tag 5, 16 bytes): rank 2 is unavailable (marked dead)");
  status = comms[1]->Isend(2, 0, std::span<const float>(data)).Wait();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("rank 2 is unavailable"));
  status = comms[0]->Barrier();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("barrier: rank 2 is unavailable"));
}

TEST(InprocCommunicatorTest, DeathDuringACollectiveReleasesTheOthers) {
  auto world = MakeWorld(3, absl::Seconds(30));
  auto comms = JoinAll(*world);
  std::vector<std::vector<float>> data(3, std::vector<float>(8, 1.0f));
  std::vector<absl::Status> statuses(3);
  const absl::Time start = absl::Now();
  RunRanks(comms, [&](Communicator& comm) {
    if (comm.rank() == 1) {
      absl::SleepFor(absl::Milliseconds(50));
      comms[1]->Abort();
      return;
    }
    statuses[comm.rank()] = comm.AllReduce(std::span(data[comm.rank()]), ReduceOp::kSum);
  });
  EXPECT_LT(absl::Now() - start, kSlack);
  for (int rank : {0, 2}) {
    EXPECT_EQ(statuses[rank].code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(statuses[rank].message(), "all-reduce of 8 floats: rank 1 is unavailable (aborted)");
  }
}

TEST(InprocCommunicatorTest, DestroyedCommunicatorCountsAsDeadButItsSentMessagesArrive) {
  auto world = MakeWorld(2, absl::Seconds(30));
  auto comms = JoinAll(*world);
  const std::vector<float> sent = {42.0f};
  ASSERT_TRUE(comms[1]->Isend(0, 0, std::span(sent)).Wait().ok());
  comms[1].reset();
  std::vector<float> received(1);
  ASSERT_TRUE(comms[0]->Irecv(1, 0, std::span(received)).Wait().ok());
  EXPECT_EQ(received[0], 42.0f);
  absl::Status status = comms[0]->Irecv(1, 0, std::span(received)).Wait();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("rank 1 is unavailable (its communicator was destroyed)"));
}

TEST(InprocCommunicatorTest, RankThatNeverPostsCausesTimeoutsNotHangs) {
  const absl::Duration timeout = absl::Milliseconds(300);
  auto world = MakeWorld(3, timeout);
  auto comms = JoinAll(*world);
  std::vector<absl::Status> statuses(3);
  const absl::Time start = absl::Now();
  RunRanks(comms, [&](Communicator& comm) {
    if (comm.rank() == 2) return;  // alive but silent
    statuses[comm.rank()] = comm.Barrier();
  });
  EXPECT_LT(absl::Now() - start, timeout + kSlack);
  for (int rank : {0, 1}) {
    EXPECT_EQ(statuses[rank].code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_THAT(statuses[rank].message(), HasSubstr("waiting for rank(s) 2"));
  }
  // Ranks that gave up left the rendezvous consistent: a later barrier of all three works.
  RunRanks(comms, [&](Communicator& comm) { EXPECT_TRUE(comm.Barrier().ok()); });
}

TEST(InprocCommunicatorTest, WaitAllReportsADeadPeerWithoutWaitingForEarlierRequests) {
  auto world = MakeWorld(3, absl::Seconds(30));
  auto comms = JoinAll(*world);
  std::vector<float> from_one(1), from_two(1);
  std::vector<Request> requests;
  requests.push_back(comms[0]->Irecv(1, 0, std::span(from_one)));  // rank 1 stays silent
  requests.push_back(comms[0]->Irecv(2, 0, std::span(from_two)));
  std::thread killer([&] {
    absl::SleepFor(absl::Milliseconds(50));
    world->MarkDead(2);
  });
  const absl::Time start = absl::Now();
  absl::Status status = WaitAll(std::span(requests), absl::Seconds(30));
  killer.join();
  EXPECT_LT(absl::Now() - start, kSlack);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("rank 2 is unavailable"));
}

TEST(InprocCommunicatorTest, DestroyingAPendingReceiveCancelsIt) {
  auto world = MakeWorld(2);
  auto comms = JoinAll(*world);
  {
    std::vector<float> abandoned(1);
    Request request = comms[1]->Irecv(0, 0, std::span(abandoned));
    EXPECT_FALSE(request.Test());
  }
  const std::vector<float> sent = {7.0f};
  ASSERT_TRUE(comms[0]->Isend(1, 0, std::span(sent)).Wait().ok());
  std::vector<float> received(1);
  ASSERT_TRUE(comms[1]->Irecv(0, 0, std::span(received)).Wait().ok());
  EXPECT_EQ(received[0], 7.0f);
}

TEST(InprocCommunicatorTest, RingExchangeOfManyStepsUnderThreads) {
  constexpr int kRanks = 8;
  constexpr int kSteps = 50;
  auto world = MakeWorld(kRanks);
  auto comms = JoinAll(*world);
  RunRanks(comms, [&](Communicator& comm) {
    const int left = (comm.rank() + kRanks - 1) % kRanks, right = (comm.rank() + 1) % kRanks;
    for (int step = 0; step < kSteps; ++step) {
      const std::vector<float> mine(100, static_cast<float>(comm.rank() * 1000 + step));
      std::vector<float> from_left(100), from_right(100);
      std::vector<Request> requests;
      requests.push_back(comm.Irecv(left, step, std::span(from_left)));
      requests.push_back(comm.Irecv(right, step, std::span(from_right)));
      requests.push_back(comm.Isend(left, step, std::span(mine)));
      requests.push_back(comm.Isend(right, step, std::span(mine)));
      ASSERT_TRUE(WaitAll(std::span(requests), comm.timeout()).ok());
      ASSERT_EQ(from_left[99], static_cast<float>(left * 1000 + step));
      ASSERT_EQ(from_right[0], static_cast<float>(right * 1000 + step));
    }
  });
}

}  // namespace
}  // namespace ald
