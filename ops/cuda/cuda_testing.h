// Test helpers for the CUDA ops: skip without a device (printing why), status assertions,
// double <-> device-float transfers for comparing against the ops/ref templates, and the CPU op
// tests' helpers (`using namespace ::ald::cuda::testing;` brings them all in).
#pragma once

#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "ops/cuda/cuda_status.h"
#include "ops/cuda/device_buffer.h"
#include "ops/error_testing.h"
#include "ops/testing/op_testing.h"

// Every GPU test starts with this: machines without a GPU or driver report the skip and why.
#define SKIP_WITHOUT_CUDA()                                                        \
  do {                                                                             \
    const ::absl::Status ald_cuda_available_ = ::ald::cuda::CudaDeviceAvailable(); \
    if (!ald_cuda_available_.ok()) GTEST_SKIP() << ald_cuda_available_.message();  \
  } while (0)

#define ALD_ASSERT_OK(expr)                                     \
  do {                                                          \
    const ::absl::Status ald_assert_status_ = (expr);           \
    ASSERT_TRUE(ald_assert_status_.ok()) << ald_assert_status_; \
  } while (0)

#define ALD_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ALD_ASSERT_OK_AND_ASSIGN_IMPL(ALD_CONCAT(ald_assert_statusor_, __LINE__), lhs, expr)
#define ALD_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  ASSERT_TRUE(tmp.ok()) << tmp.status();              \
  lhs = std::move(tmp).value()

namespace ald::cuda::testing {

// The CPU op tests' helpers too, so that a GPU op test needs one using-directive.
using ::ald::testing::AllClose;
using ::ald::testing::FailsWith;
using ::ald::testing::RandomLabels;
using ::ald::testing::RandomValues;
using ::ald::testing::RoundedToFloat;

// The values rounded to float, on the device.
inline absl::StatusOr<DeviceBuffer<float>> Upload(std::span<const double> values) {
  std::vector<float> floats(values.begin(), values.end());
  return DeviceBuffer<float>::FromHost(floats);
}

inline absl::StatusOr<std::vector<double>> Download(const DeviceBuffer<float>& buffer) {
  ASSIGN_OR_RETURN(std::vector<float> floats, buffer.ToHost());
  return std::vector<double>(floats.begin(), floats.end());
}

}  // namespace ald::cuda::testing
