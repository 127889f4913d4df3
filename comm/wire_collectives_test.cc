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
  // More than one gather chunk (2^18 floats), so the chunk seams are covered.
  const size_t count = (size_t{1} << 18) + 5;
  std::vector<std::vector<float>> sums(kRanks, std::vector<float>(count));
  std::vector<std::vector<float>> means = sums;
  RunRanks([&](Communicator& comm) {
    const int r = comm.rank();
    for (size_t i = 0; i < count; ++i) sums[r][i] = means[r][i] = Input(r, i);
    EXPECT_TRUE(AllReduceOnWire(comm, sums[r], ReduceOp::kSum, WireFormat::kBf16).ok());
    EXPECT_TRUE(AllReduceOnWire(comm, means[r], ReduceOp::kAverage, WireFormat::kBf16).ok());
  });
  for (size_t i = 0; i < count; i += 101) {
    float expected = Bf16(Input(0, i));
    for (int rank = 1; rank < kRanks; ++rank) expected += Bf16(Input(rank, i));
    ASSERT_EQ(sums[0][i], expected) << "element " << i;
    ASSERT_EQ(means[0][i], expected / kRanks) << "element " << i;
  }
  for (int rank = 1; rank < kRanks; ++rank) {
    EXPECT_EQ(std::memcmp(sums[rank].data(), sums[0].data(), count * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(means[rank].data(), means[0].data(), count * sizeof(float)), 0);
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
  std::vector<std::vector<float>> data(kRanks, std::vector<float>(count, -7.0f));
  for (size_t i = 0; i < count; ++i) data[root][i] = Input(root, i);
  const std::vector<float> sent = data[root];
  RunRanks([&](Communicator& comm) {
    EXPECT_TRUE(BroadcastOnWire(comm, data[comm.rank()], root, WireFormat::kBf16).ok());
  });
  EXPECT_EQ(data[root], sent);
  size_t rounded = 0;
  for (int rank : {0, 2}) {
    for (size_t i = 0; i < count; ++i) {
      ASSERT_EQ(data[rank][i], Bf16(sent[i])) << "rank " << rank << " element " << i;
      rounded += data[rank][i] != sent[i];
    }
  }
  EXPECT_GT(rounded, 0u);
}

}  // namespace
}  // namespace ald
