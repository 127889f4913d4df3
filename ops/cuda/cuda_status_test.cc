// The status mapping and the device check: host-only, so these run (and must pass) on machines
// without a GPU too, where the device check must say why there is none.
#include "ops/cuda/cuda_status.h"

#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/device_buffer.h"
#include "ops/error_testing.h"

namespace ald::cuda {
namespace {

using ::ald::testing::FailsWith;

TEST(CudaStatusTest, NamesTheCallAndTheCode) {
  EXPECT_TRUE(CudaStatus(cudaSuccess, "cudaMalloc(&p, 4)").ok());
  EXPECT_TRUE(CudnnStatus(CUDNN_STATUS_SUCCESS, "cudnnCreate(&h)").ok());
  EXPECT_TRUE(CublasStatus(CUBLAS_STATUS_SUCCESS, "cublasCreate(&h)").ok());

  const absl::Status cudnn =
      CudnnStatus(CUDNN_STATUS_BAD_PARAM, "cudnnConvolutionForward(h, &one, x_desc, x, ...)");
  EXPECT_EQ(cudnn.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cudnn.message(), "cudnnConvolutionForward: CUDNN_STATUS_BAD_PARAM");

  const absl::Status cuda = CudaStatus(cudaErrorMemoryAllocation, "::cudaMalloc(&data, bytes)");
  EXPECT_EQ(cuda.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(FailsWith(cuda, "cudaMalloc: cudaErrorMemoryAllocation"));

  const absl::Status cublas = CublasStatus(CUBLAS_STATUS_INVALID_VALUE, "cublasSgemm_v2(h, ...)");
  EXPECT_EQ(cublas.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cublas.message(), "cublasSgemm_v2: CUBLAS_STATUS_INVALID_VALUE");
}

TEST(CudaStatusTest, DeviceCheckIsOkOrSaysWhy) {
  const absl::Status status = CudaDeviceAvailable();
  if (status.ok()) return;  // a GPU machine
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(FailsWith(status, "no CUDA device: cudaGetDeviceCount"));
}

TEST(DeviceBufferTest, EmptyBufferAndSizeMismatchNeedNoDevice) {
  // Neither touches the device: an empty buffer allocates nothing, and sizes are checked before
  // any copy.
  absl::StatusOr<DeviceBuffer<float>> empty = DeviceBuffer<float>::Create(0);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->data(), nullptr);
  EXPECT_EQ(empty->size(), 0);
  std::vector<float> three(3);
  EXPECT_TRUE(FailsWith(empty->CopyFromHost(three),
                        "DeviceBuffer::CopyFromHost: host span has 3 elements, buffer 0"));
  EXPECT_TRUE(FailsWith(DeviceBuffer<float>::Create(-1).status(), "DeviceBuffer: count -1"));
}

}  // namespace
}  // namespace ald::cuda
