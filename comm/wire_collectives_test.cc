#include "comm/wire_collectives.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "comm/inproc_communicator.h"
#include "core/bfloat16.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

constexpr int kRanks = 3;

float Bf16(float value) { return static_cast<float>(BFloat16(value)); }

// Rank `rank`'s rounding of its whole buffer (step 0 of seed 1), and what its element i becomes.
WireRounding RoundingOf(int rank) {
  return {WireRoundingKey(1, 0, rank, WireStream::kEasgdMean), 0};
}
float Sent(WireFormat wire, int rank, size_t i, float value) {
  return RoundForWire(wire, value, {RoundingOf(rank).key, i});
}

constexpr WireFormat kBf16Formats[] = {WireFormat::kBf16, WireFormat::kBf16Nearest};

// Values that bf16 cannot hold, of different magnitudes, so both the rounding and the order of
// the additions show in the bits.
float Input(int rank, size_t i) {
  return (rank == 1 ? 1000.0f : 0.001f) * std::sin(0.37f * static_cast<float>(i + 1) * (rank + 1));
}

// Runs `body` on every rank of an in-process world, each in its own thread.
void RunRanks(const std::function<void(Communicator&)>& body) {
  auto world = InprocWorld::Create(kRanks, {.timeout = absl::Seconds(20)});
  ASSERT_TRUE(world.ok()) << world.status();
  std::vector<std::unique_ptr<InprocCommunicator>> comms;
  for (int rank = 0; rank < kRanks; ++rank) comms.push_back(*(*world)->Join(rank));
  std::vector<std::thread> threads;
  for (auto& comm : comms) threads.emplace_back([&body, &comm] { body(*comm); });
  for (auto& thread : threads) thread.join();
}

TEST(WireCollectivesTest, Bf16AllReduceAddsEveryRanksRoundedValuesInRankOrder) {
  // More than one gather chunk (2^18 floats), so the chunk seams are covered: an element's
  // rounding follows its index in the whole buffer, not in its chunk.
  const size_t count = (size_t{1} << 18) + 5;
  for (const WireFormat wire : kBf16Formats) {
    std::vector<std::vector<float>> sums(kRanks, std::vector<float>(count));
    std::vector<std::vector<float>> means = sums;
    RunRanks([&](Communicator& comm) {
      const int r = comm.rank();
      for (size_t i = 0; i < count; ++i) sums[r][i] = means[r][i] = Input(r, i);
      EXPECT_TRUE(AllReduceOnWire(comm, sums[r], ReduceOp::kSum, wire, RoundingOf(r)).ok());
      EXPECT_TRUE(
          AllReduceOnWire(comm, means[r], ReduceOp::kAverage, wire, RoundingOf(r)).ok());
    });
    for (size_t i = 0; i < count; i += 101) {
      float expected = Sent(wire, 0, i, Input(0, i));
      for (int rank = 1; rank < kRanks; ++rank) expected += Sent(wire, rank, i, Input(rank, i));
      ASSERT_EQ(sums[0][i], expected) << WireFormatName(wire) << " element " << i;
      ASSERT_EQ(means[0][i], expected / kRanks) << WireFormatName(wire) << " element " << i;
    }
    for (int rank = 1; rank < kRanks; ++rank) {
      EXPECT_EQ(std::memcmp(sums[rank].data(), sums[0].data(), count * sizeof(float)), 0);
      EXPECT_EQ(std::memcmp(means[rank].data(), means[0].data(), count * sizeof(float)), 0);
    }
  }
}

TEST(WireCollectivesTest, Fp32AllReduceIsTheCommunicatorsOwn) {
  const size_t count = 50;
  std::vector<std::vector<float>> wire(kRanks, std::vector<float>(count));
  std::vector<std::vector<float>> plain = wire;
  RunRanks([&](Communicator& comm) {
    const int r = comm.rank();
    for (size_t i = 0; i < count; ++i) wire[r][i] = plain[r][i] = Input(r, i);
    EXPECT_TRUE(AllReduceOnWire(comm, wire[r], ReduceOp::kAverage, WireFormat::kFp32).ok());
    EXPECT_TRUE(comm.AllReduce(std::span(plain[r]), ReduceOp::kAverage).ok());
  });
  EXPECT_EQ(wire[0], plain[0]);
  // And it differs from the bf16 wire: the inputs are not bf16 values.
  EXPECT_NE(Bf16(Input(1, 0)), Input(1, 0));
}

TEST(WireCollectivesTest, Bf16BroadcastRoundsForTheReceiversAndTheRootKeepsItsOwn) {
  const int root = 1;
  const size_t count = 40;
  for (const WireFormat wire : kBf16Formats) {
    std::vector<std::vector<float>> data(kRanks, std::vector<float>(count, -7.0f));
    for (size_t i = 0; i < count; ++i) data[root][i] = Input(root, i);
    const std::vector<float> sent = data[root];
    RunRanks([&](Communicator& comm) {
      // Only the root's rounding counts; the others pass their own, which must not matter.
      EXPECT_TRUE(
          BroadcastOnWire(comm, data[comm.rank()], root, wire, RoundingOf(comm.rank())).ok());
    });
    EXPECT_EQ(data[root], sent);
    size_t rounded = 0;
    for (int rank : {0, 2}) {
      for (size_t i = 0; i < count; ++i) {
        ASSERT_EQ(data[rank][i], Sent(wire, root, i, sent[i]))
            << WireFormatName(wire) << " rank " << rank << " element " << i;
        rounded += data[rank][i] != sent[i];
      }
    }
    EXPECT_GT(rounded, 0u);
  }
}

}  // namespace
}  // namespace ald
