#include "comm/nccl_communicator.h"

#include <cuda_runtime.h>

#include <vector>

#include "comm/inproc_communicator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

// Without a GPU, creating the communicator must fail cleanly and say why (this runs anywhere).
TEST(NcclCommunicatorTest, WithoutADeviceCreationFailsWithAReason) {
  if (CudaDeviceAvailable().ok()) GTEST_SKIP() << "a CUDA device is present";
  auto world = InprocWorld::Create(1);
  ASSERT_TRUE(world.ok());
  auto bootstrap = (*world)->Join(0);
  ASSERT_TRUE(bootstrap.ok());
  auto nccl = CreateNcclCommunicator(**bootstrap);
  EXPECT_EQ(nccl.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(nccl.status().message()), ::testing::HasSubstr("cudaGetDeviceCount"));
}

// One rank on one GPU: collectives are identities, a send to itself arrives.
TEST(NcclCommunicatorTest, SingleRankCollectivesAndSelfExchange) {
  if (absl::Status gpu = CudaDeviceAvailable(); !gpu.ok()) {
    GTEST_SKIP() << "skipped: needs a CUDA device and driver (" << gpu.message() << ")";
  }
  auto world = InprocWorld::Create(1);
  ASSERT_TRUE(world.ok());
  auto bootstrap = (*world)->Join(0);
  ASSERT_TRUE(bootstrap.ok());
  auto nccl = CreateNcclCommunicator(**bootstrap, {.comm = {.timeout = absl::Seconds(30)}});
  ASSERT_TRUE(nccl.ok()) << nccl.status();
  Communicator& comm = **nccl;

  constexpr size_t kCount = 1 << 18;
  std::vector<float> host(kCount);
  for (size_t i = 0; i < kCount; ++i) host[i] = 0.5f * static_cast<float>(i);
  float* sent = nullptr;
  float* received = nullptr;
  ASSERT_EQ(cudaMalloc(&sent, kCount * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&received, kCount * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(sent, host.data(), kCount * sizeof(float), cudaMemcpyHostToDevice),
            cudaSuccess);

  std::vector<Request> requests;
  requests.push_back(comm.Irecv(0, 0, std::span(received, kCount)));
  requests.push_back(comm.Isend(0, 0, std::span<const float>(sent, kCount)));
  ASSERT_TRUE(WaitAll(std::span(requests), comm.timeout()).ok());
  ASSERT_TRUE(comm.AllReduce(std::span(received, kCount), ReduceOp::kAverage).ok());
  ASSERT_TRUE(comm.Broadcast(std::span(received, kCount), 0).ok());
  ASSERT_TRUE(comm.Barrier().ok());

  std::vector<float> back(kCount);
  ASSERT_EQ(cudaMemcpy(back.data(), received, kCount * sizeof(float), cudaMemcpyDeviceToHost),
            cudaSuccess);
  EXPECT_EQ(back, host);  // exact: one rank's average is its own value
  cudaFree(sent);
  cudaFree(received);
}

}  // namespace
}  // namespace ald
