// One rank of the multi-process MPI communicator tests, launched by mpirun from the sh_tests
// beside it. --scenario=tests runs the GoogleTest cases below on every rank; --scenario=fault
// has rank --victim SIGKILL itself in the middle of an all-to-all exchange, and every survivor
// must report an error naming it and exit non-zero.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "comm/mpi_communicator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, scenario, "tests", "tests | fault");
ABSL_FLAG(double, timeout, 10.0, "communicator timeout in seconds");
ABSL_FLAG(int, victim, 2, "fault scenario: the rank that kills itself");
ABSL_FLAG(int, victim_step, 3, "fault scenario: the exchange step in which it does");
ABSL_FLAG(std::string, result_dir, "",
          "fault scenario: each rank writes its exit status to rank.<r> here (mpirun's own exit "
          "status is 0 under --enable-recovery whatever the ranks return)");

namespace ald {
namespace {

using ::testing::HasSubstr;

Communicator* comm = nullptr;  // the job's communicator, shared by the test cases

// Timing assertions allow one second for scheduling on an oversubscribed 2-core machine.
constexpr absl::Duration kSlack = absl::Seconds(1);

TEST(MpiCommunicatorTest, RingExchangeDeliversEveryStep) {
  const int n = comm->size(), me = comm->rank();
  const int left = (me + n - 1) % n, right = (me + 1) % n;
  for (size_t count : {1ul, 1000ul, 262144ul}) {  // eager and rendezvous protocols
    for (int step = 0; step < 5; ++step) {
      const std::vector<float> mine(count, static_cast<float>(me * 100 + step));
      std::vector<float> from_left(count), from_right(count);
      std::vector<Request> requests;
      requests.push_back(comm->Irecv(left, step, std::span(from_left)));
      requests.push_back(comm->Irecv(right, step, std::span(from_right)));
      requests.push_back(comm->Isend(right, step, std::span(mine)));
      requests.push_back(comm->Isend(left, step, std::span(mine)));
      ASSERT_TRUE(WaitAll(std::span(requests), comm->timeout()).ok());
      ASSERT_EQ(from_left[count - 1], static_cast<float>(left * 100 + step));
      ASSERT_EQ(from_right[0], static_cast<float>(right * 100 + step));
    }
  }
}

TEST(MpiCommunicatorTest, MatchesByTagInPostingOrder) {
  if (comm->rank() == 0) {
    for (auto [tag, value] : {std::pair{1, 10.0f}, {2, 20.0f}, {1, 11.0f}}) {
      const std::vector<float> data = {value};
      ASSERT_TRUE(comm->Isend(1, tag, std::span(data)).Wait().ok());
    }
  } else if (comm->rank() == 1) {
    std::vector<float> a(1), b(1), c(1);
    ASSERT_TRUE(comm->Irecv(0, 2, std::span(b)).Wait().ok());
    ASSERT_TRUE(comm->Irecv(0, 1, std::span(a)).Wait().ok());
    ASSERT_TRUE(comm->Irecv(0, 1, std::span(c)).Wait().ok());
    EXPECT_EQ(a[0], 10.0f);
    EXPECT_EQ(b[0], 20.0f);
    EXPECT_EQ(c[0], 11.0f);
  }
  ASSERT_TRUE(comm->Barrier().ok());
}

// Large sends to one peer go one at a time, the highest priority first: the pipelined step
// sends first the bucket the next forward needs first.
TEST(MpiCommunicatorTest, QueuedLargeSendsGoInPriorityOrder) {
  constexpr size_t kCount = 1 << 20;  // 4 MiB: far above the lane threshold, rendezvous
  if (comm->rank() == 0) {
    const std::vector<float> a(kCount, 1.0f), b(kCount, 2.0f), c(kCount, 3.0f);
    std::vector<Request> sends;
    sends.push_back(comm->Isend(1, 60, std::span(a), 0));  // occupies the lane
    sends.push_back(comm->Isend(1, 61, std::span(b), 1));
    sends.push_back(comm->Isend(1, 62, std::span(c), 2));  // overtakes b
    ASSERT_TRUE(WaitAll(std::span(sends), comm->timeout()).ok());
  } else if (comm->rank() == 1) {
    // Every send is posted before any receive (1 s: under ASan the ranks run several times
    // slower).
    absl::SleepFor(absl::Seconds(1));
    std::vector<float> a(kCount), b(kCount), c(kCount);
    std::vector<Request> receives;
    receives.push_back(comm->Irecv(0, 60, std::span(a)));
    receives.push_back(comm->Irecv(0, 61, std::span(b)));
    receives.push_back(comm->Irecv(0, 62, std::span(c)));
    std::vector<int> order;
    const absl::Time deadline = absl::Now() + comm->timeout();
    while (order.size() < receives.size() && absl::Now() < deadline) {
      for (int k = 0; k < 3; ++k) {
        if (std::count(order.begin(), order.end(), k) == 0 && receives[k].Test()) {
          ASSERT_TRUE(receives[k].status().ok()) << receives[k].status();
          order.push_back(k);
        }
      }
    }
    EXPECT_EQ(order, (std::vector<int>{0, 2, 1}));
    EXPECT_EQ(c[kCount - 1], 3.0f);
    EXPECT_EQ(b[0], 2.0f);
  }
  ASSERT_TRUE(comm->Barrier().ok());
}

// A request knows when MPI finished it (the progress thread saw it), so a trace ends the
// transfer there even when the worker tests it much later.
TEST(MpiCommunicatorTest, CompletionTimeIsWhenTheTransferFinished) {
  if (comm->rank() == 0) {
    ASSERT_TRUE(comm->Barrier().ok());
    const std::vector<float> data = {1.0f};
    ASSERT_TRUE(comm->Isend(1, 65, std::span(data)).Wait().ok());
  } else if (comm->rank() == 1) {
    std::vector<float> data(1);
    const absl::Time posted = absl::Now();
    Request receive = comm->Irecv(0, 65, std::span(data));
    EXPECT_FALSE(receive.completion_time().has_value());  // the sender waits for the barrier
    ASSERT_TRUE(comm->Barrier().ok());
    absl::SleepFor(absl::Seconds(2) + kSlack);  // long after the message arrived
    const absl::Time observed = absl::Now();
    ASSERT_TRUE(receive.Test());
    ASSERT_TRUE(receive.status().ok()) << receive.status();
    const std::optional<absl::Time> completed = receive.completion_time();
    ASSERT_TRUE(completed.has_value());
    EXPECT_GE(*completed, posted);
    EXPECT_LE(*completed, observed - absl::Seconds(1));
  } else {
    ASSERT_TRUE(comm->Barrier().ok());
  }
  ASSERT_TRUE(comm->Barrier().ok());
}

// A small message (AL-DSGD's loss and degree) never waits behind a model in flight.
TEST(MpiCommunicatorTest, SmallSendsNeverWaitBehindLargeOnes) {
  constexpr size_t kCount = 1 << 20;
  if (comm->rank() == 0) {
    const std::vector<float> large(kCount, 5.0f), small = {7.0f, 8.0f};
    Request large_send = comm->Isend(1, 63, std::span(large), 0);
    ASSERT_TRUE(comm->Isend(1, 64, std::span(small), 0).Wait().ok());
    ASSERT_TRUE(large_send.Wait().ok());
  } else if (comm->rank() == 1) {
    std::vector<float> large(kCount), small(2);
    // The large receive is posted only after the small one arrived: were the small send queued
    // behind the large one, this would time out.
    ASSERT_TRUE(comm->Irecv(0, 64, std::span(small)).Wait(absl::Seconds(5)).ok());
    EXPECT_EQ(small[1], 8.0f);
    ASSERT_TRUE(comm->Irecv(0, 63, std::span(large)).Wait().ok());
  }
  ASSERT_TRUE(comm->Barrier().ok());
}

TEST(MpiCommunicatorTest, SizeMismatchIsAnErrorEitherWay) {
  if (comm->rank() == 0) {
    const std::vector<float> four(4, 1.0f);
    ASSERT_TRUE(comm->Isend(1, 40, std::span(four)).Wait().ok());
    ASSERT_TRUE(comm->Isend(1, 41, std::span(four)).Wait().ok());
  } else if (comm->rank() == 1) {
    std::vector<float> two(2), eight(8);
    absl::Status shorter = comm->Irecv(0, 40, std::span(two)).Wait();
    EXPECT_EQ(shorter.code(), absl::StatusCode::kInvalidArgument) << shorter;
    EXPECT_THAT(std::string(shorter.message()), HasSubstr("recv from rank 0 (tag 40, 8 bytes)"));
    absl::Status longer = comm->Irecv(0, 41, std::span(eight)).Wait();
    EXPECT_EQ(longer.code(), absl::StatusCode::kInvalidArgument) << longer;
    EXPECT_THAT(std::string(longer.message()), HasSubstr("the sender sent 16 bytes"));
  }
  ASSERT_TRUE(comm->Barrier().ok());
}

TEST(MpiCommunicatorTest, AllReduceAgreesBitwiseOnEveryRank) {
  constexpr size_t kCount = 100000;
  const int n = comm->size(), me = comm->rank();
  auto input = [](int rank, size_t i) { return std::sin(0.001f * i * (rank + 1)) / (rank + 1); };
  std::vector<float> sum(kCount), average(kCount);
  for (size_t i = 0; i < kCount; ++i) sum[i] = average[i] = input(me, i);
  ASSERT_TRUE(comm->AllReduce(std::span(sum), ReduceOp::kSum).ok());
  ASSERT_TRUE(comm->AllReduce(std::span(average), ReduceOp::kAverage).ok());
  for (size_t i = 0; i < kCount; i += 997) {
    double expected = 0;
    for (int rank = 0; rank < n; ++rank) expected += input(rank, i);
    // Float sums of n terms of magnitude <= 1 in any order: a few ulps of n.
    EXPECT_NEAR(sum[i], expected, 1e-5 * n) << "element " << i;
    EXPECT_NEAR(average[i], expected / n, 1e-5);
  }
  // Every rank must hold the same bits: rank 0 compares everyone's result with its own.
  if (me == 0) {
    std::vector<float> theirs(kCount);
    for (int rank = 1; rank < n; ++rank) {
      ASSERT_TRUE(comm->Irecv(rank, 50, std::span(theirs)).Wait().ok());
      EXPECT_EQ(std::memcmp(theirs.data(), sum.data(), sizeof(float) * kCount), 0)
          << "rank " << rank << " differs";
    }
  } else {
    ASSERT_TRUE(comm->Isend(0, 50, std::span<const float>(sum)).Wait().ok());
  }
}

// Reproducible sums (the default) must be the in-process communicator's bits: x0 + x1 + ... in
// rank order, float by float. Sizes: fewer elements than ranks (some own an empty slice), one
// that does not divide evenly, and one past the 4M-float chunk.
TEST(MpiCommunicatorTest, AllReduceSumsInRankOrderAsInProcess) {
  const int n = comm->size(), me = comm->rank();
  auto input = [](int rank, size_t i) {
    return std::cos(0.37f * static_cast<float>(i % 10007) + rank) * (1.0f + 0.1f * rank);
  };
  for (size_t count : {size_t{3}, size_t{100003}, (size_t{1} << 22) + 5}) {
    std::vector<float> sum(count);
    for (size_t i = 0; i < count; ++i) sum[i] = input(me, i);
    ASSERT_TRUE(comm->AllReduce(std::span(sum), ReduceOp::kSum).ok()) << count;
    size_t mismatches = 0;
    for (size_t i = 0; i < count; ++i) {
      float expected = input(0, i);
      for (int rank = 1; rank < n; ++rank) expected += input(rank, i);
      mismatches += std::memcmp(&expected, &sum[i], sizeof(float)) != 0;
    }
    EXPECT_EQ(mismatches, 0u) << count << " floats: not the rank-order sum's bits";
  }
}

TEST(MpiCommunicatorTest, BroadcastCopiesTheRoot) {
  const int root = comm->size() - 1;
  std::vector<float> data(1000, -1.0f);
  if (comm->rank() == root) {
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i);
  }
  ASSERT_TRUE(comm->Broadcast(std::span(data), root).ok());
  for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], static_cast<float>(i));
}

TEST(MpiCommunicatorTest, AllGatherPutsEveryRanksBytesInRankOrder) {
  const int n = comm->size(), me = comm->rank();
  std::vector<uint8_t> mine(3), all(3 * n, 0xff);
  for (size_t i = 0; i < mine.size(); ++i) mine[i] = static_cast<uint8_t>(10 * me + i);
  ASSERT_TRUE(comm->AllGather(std::as_bytes(std::span(mine)),
                              std::as_writable_bytes(std::span(all)))
                  .ok());
  for (int rank = 0; rank < n; ++rank) {
    for (size_t i = 0; i < 3; ++i) ASSERT_EQ(all[3 * rank + i], 10 * rank + i) << rank;
  }
}

TEST(MpiCommunicatorTest, BarrierWaitsForTheLastRank) {
  const absl::Duration delay = absl::Milliseconds(300);
  if (comm->rank() == 0) absl::SleepFor(delay);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(comm->Barrier().ok());
  if (comm->rank() != 0) {
    EXPECT_GE(absl::Now() - start, delay - absl::Milliseconds(50));
  }
}

TEST(MpiCommunicatorTest, WaitPastItsDeadlineIsDeadlineExceeded) {
  const int peer = (comm->rank() + 1) % comm->size();
  const absl::Duration timeout = absl::Milliseconds(300);
  std::vector<float> never(4);
  const absl::Time start = absl::Now();
  absl::Status status = comm->Irecv(peer, 99, std::span(never)).Wait(timeout);
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status.message(),
            absl::StrFormat("recv from rank %d (tag 99, 16 bytes) timed out after 0.3s", peer));
  EXPECT_GE(elapsed, timeout);
  EXPECT_LT(elapsed, timeout + kSlack);
  ASSERT_TRUE(comm->Barrier().ok());
}

// All-to-all exchanges of 1 MB; the victim dies after posting its receives, before its sends.
int RunFaultExchange() {
  const int n = comm->size(), me = comm->rank();
  const int victim = absl::GetFlag(FLAGS_victim), victim_step = absl::GetFlag(FLAGS_victim_step);
  const std::vector<float> mine(262144, static_cast<float>(me));
  std::vector<std::vector<float>> received(n, std::vector<float>(mine.size()));
  for (int step = 0; step < 100; ++step) {
    std::vector<Request> requests;
    for (int peer = 0; peer < n; ++peer) {
      if (peer != me) requests.push_back(comm->Irecv(peer, step, std::span(received[peer])));
    }
    if (me == victim && step == victim_step) {
      std::fprintf(stderr, "rank %d: killing itself in step %d\n", me, step);
      kill(getpid(), SIGKILL);
    }
    for (int peer = 0; peer < n; ++peer) {
      if (peer != me) requests.push_back(comm->Isend(peer, step, std::span(mine)));
    }
    const absl::Time start = absl::Now();
    absl::Status status = WaitAll(std::span(requests), comm->timeout());
    if (!status.ok()) {
      std::fprintf(stderr, "rank %d: step %d failed after %.2fs: %s\n", me, step,
                   absl::ToDoubleSeconds(absl::Now() - start), std::string(status.message()).c_str());
      MarkMpiJobFailed(status);
      return 1;
    }
  }
  std::fprintf(stderr, "rank %d: all steps completed, no fault seen\n", me);
  return 0;
}

int RunFaultScenario() {
  const int code = RunFaultExchange();
  if (const std::string dir = absl::GetFlag(FLAGS_result_dir); !dir.empty()) {
    const std::string path = absl::StrFormat("%s/rank.%d", dir, comm->rank());
    if (FILE* file = std::fopen(path.c_str(), "w")) {
      std::fprintf(file, "%d\n", code);
      std::fclose(file);
    }
  }
  return code;
}

}  // namespace
}  // namespace ald

int main(int argc, char** argv) {
  // Rank 0 prints the whole log, the others only their failures (the printer is chosen in
  // InitGoogleTest, before MPI knows the rank, hence mpirun's variable); each rank's verdict is
  // its exit status, which mpirun turns into the job's.
  const char* launcher_rank = std::getenv("OMPI_COMM_WORLD_RANK");
  if (launcher_rank != nullptr && std::string(launcher_rank) != "0") GTEST_FLAG_SET(brief, true);
  testing::InitGoogleTest(&argc, argv);
  absl::ParseCommandLine(argc, argv);
  auto created = ald::CreateMpiCommunicator(
      {.comm = {.timeout = absl::Seconds(absl::GetFlag(FLAGS_timeout))}});
  if (!created.ok()) {
    std::fprintf(stderr, "cannot create the MPI communicator: %s\n",
                 std::string(created.status().message()).c_str());
    return 2;
  }
  std::unique_ptr<ald::Communicator> communicator = std::move(*created);
  ald::comm = communicator.get();
  if (absl::GetFlag(FLAGS_scenario) == "fault") return ald::RunFaultScenario();
  return RUN_ALL_TESTS();
}
