#include "comm/liveness_mesh.h"

#include <memory>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// `size` meshes in this process, connected as the ranks of one job (the all-gather by hand).
// `silence[r]` is rank r's silence limit.
std::vector<std::unique_ptr<LivenessMesh>> Connected(std::vector<absl::Duration> silence) {
  const int size = static_cast<int>(silence.size());
  std::vector<std::unique_ptr<LivenessMesh>> meshes;
  std::vector<LivenessEndpoint> endpoints;
  for (int rank = 0; rank < size; ++rank) {
    auto mesh = LivenessMesh::Listen(rank, size, silence[rank]);
    EXPECT_TRUE(mesh.ok()) << mesh.status();
    endpoints.push_back((*mesh)->endpoint());
    meshes.push_back(std::move(*mesh));
  }
  std::vector<std::thread> connecting;
  std::vector<absl::Status> connected(size);
  for (int rank = 0; rank < size; ++rank) {
    connecting.emplace_back([&, rank] {
      connected[rank] = meshes[rank]->Connect(endpoints, absl::Seconds(10));
    });
  }
  for (std::thread& thread : connecting) thread.join();
  for (const absl::Status& status : connected) EXPECT_TRUE(status.ok()) << status;
  return meshes;
}

std::vector<std::unique_ptr<LivenessMesh>> Connected(int size) {
  return Connected(std::vector<absl::Duration>(size, absl::Seconds(30)));
}

TEST(LivenessMeshTest, ANormalExitIsNoFailure) {
  auto meshes = Connected(4);
  meshes[1].reset();  // says goodbye
  absl::SleepFor(absl::Milliseconds(300));
  for (int rank : {0, 2, 3}) EXPECT_FALSE(meshes[rank]->failure().has_value()) << rank;
}

TEST(LivenessMeshTest, EveryoneNamesAKilledRankAtOnce) {
  auto meshes = Connected(4);
  const absl::Time killed = absl::Now();
  meshes[2]->KillForTest();
  for (int rank : {0, 1, 3}) {
    const std::optional<PeerFailure> failure = meshes[rank]->AwaitFailure(absl::Seconds(5));
    ASSERT_TRUE(failure.has_value()) << rank;
    EXPECT_EQ(failure->rank, 2);
    EXPECT_THAT(failure->what, HasSubstr(meshes[2]->Describe(2) + " died"));
  }
  EXPECT_LT(absl::Now() - killed, absl::Seconds(1));
}

// Rank 1 learns first that rank 2 is hung (its silence limit is short) and leaves because of
// it; rank 0, which sees rank 1's connection close long before its own limit on rank 2, must
// blame rank 2, not rank 1.
TEST(LivenessMeshTest, ALeavingRankPassesOnTheBlame) {
  auto meshes = Connected({absl::Seconds(30), absl::Milliseconds(400), absl::Seconds(30)});
  meshes[2]->FallSilentForTest();
  const std::optional<PeerFailure> seen = meshes[1]->AwaitFailure(absl::Seconds(5));
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->rank, 2);
  EXPECT_THAT(seen->what, HasSubstr("sent nothing for"));
  meshes[1]->Leave(absl::UnavailableError("recv from rank 2 failed"));
  const std::optional<PeerFailure> told = meshes[0]->AwaitFailure(absl::Seconds(5));
  ASSERT_TRUE(told.has_value());
  EXPECT_EQ(told->rank, 2);
  EXPECT_THAT(told->what, HasSubstr(meshes[0]->Describe(2) + " sent nothing for"));
  EXPECT_THAT(told->what, HasSubstr("(as rank 1 reported)"));
}

TEST(LivenessMeshTest, ARankThatFailsOnItsOwnIsBlamedWithItsReason) {
  auto meshes = Connected(3);
  meshes[1]->Leave(absl::InternalError("disk full"));
  for (int rank : {0, 2}) {
    const std::optional<PeerFailure> failure = meshes[rank]->AwaitFailure(absl::Seconds(5));
    ASSERT_TRUE(failure.has_value());
    EXPECT_EQ(failure->rank, 1);
    EXPECT_EQ(failure->what, meshes[rank]->Describe(1) + " failed: disk full");
  }
}

TEST(LivenessMeshTest, ASilentRankIsNamedAfterTheLimit) {
  const absl::Duration limit = absl::Milliseconds(400);
  auto meshes = Connected({limit, limit, limit});
  const absl::Time start = absl::Now();
  meshes[0]->FallSilentForTest();
  const std::optional<PeerFailure> failure = meshes[2]->AwaitFailure(absl::Seconds(5));
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->rank, 0);
  EXPECT_THAT(failure->what, HasSubstr("(hung, or its host is unreachable)"));
  // The limit counts from the last heartbeat heard, which may precede the silence by up to one
  // heartbeat period (limit / 4 here): earlier than that would be a false alarm.
  EXPECT_GE(absl::Now() - start, limit - limit / 4);
  EXPECT_THAT(failure->what, Not(HasSubstr("rank 1")));
}

TEST(LivenessMeshTest, AnotherJobsRankCannotJoin) {
  // Rank 1 holds rank 0's address under another job's key: rank 0 hangs up on it, and rank 1
  // fails to connect, naming the rank it could not reach.
  auto first = LivenessMesh::Listen(0, 2, absl::Seconds(30));
  auto second = LivenessMesh::Listen(1, 2, absl::Seconds(30));
  ASSERT_TRUE(first.ok() && second.ok());
  std::vector<LivenessEndpoint> endpoints = {(*first)->endpoint(), (*second)->endpoint()};
  std::thread accepting([&] {
    EXPECT_FALSE((*first)->Connect(endpoints, absl::Milliseconds(500)).ok());
  });
  std::vector<LivenessEndpoint> other_job = endpoints;
  other_job[0].job_key ^= 1;
  const absl::Status status = (*second)->Connect(other_job, absl::Milliseconds(500));
  accepting.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(status.message()), HasSubstr("cannot reach rank 0"));
}

}  // namespace
}  // namespace ald
