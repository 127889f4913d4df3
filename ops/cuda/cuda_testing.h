// Test helpers for the CUDA ops: skip without a device (printing why), status assertions,
// double <-> device-float transfers for comparing against the ops/ref templates, and the CPU op
// tests' helpers (`using namespace ::ald::cuda::testing;` brings them all in).
#pragma once

#include <span>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "core/bfloat16.h"
#include "core/status.h"
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

// The values rounded to bf16 (and held as doubles): inputs a bf16 op reads exactly.
inline std::vector<double> RoundedToBf16(std::span<const double> values) {
  std::vector<double> rounded;
  rounded.reserve(values.size());
  for (double v : values) {
    rounded.push_back(static_cast<float>(BFloat16(static_cast<float>(v))));
  }
  return rounded;
}

inline absl::StatusOr<DeviceBuffer<BFloat16>> UploadBf16(std::span<const double> values) {
  std::vector<BFloat16> halves;
  halves.reserve(values.size());
  for (double v : values) halves.emplace_back(static_cast<float>(v));
  return DeviceBuffer<BFloat16>::FromHost(halves);
}

inline absl::StatusOr<std::vector<double>> Download(const DeviceBuffer<BFloat16>& buffer) {
  ASSIGN_OR_RETURN(std::vector<BFloat16> halves, buffer.ToHost());
  std::vector<double> values;
  values.reserve(halves.size());
  for (BFloat16 h : halves) values.push_back(static_cast<float>(h));
  return values;
}

// `values` on the device as T: float or BFloat16, an op's activation type in a typed test.
template <typename T>
absl::StatusOr<DeviceBuffer<T>> UploadAs(std::span<const double> values) {
  if constexpr (std::is_same_v<T, float>) {
    return Upload(values);
  } else {
    return UploadBf16(values);
  }
}

// The values as a T op reads them exactly: rounded to float, or to bf16.
template <typename T>
std::vector<double> ExactIn(std::span<const double> values) {
  if constexpr (std::is_same_v<T, float>) {
    return RoundedToFloat(values);
  } else {
    return RoundedToBf16(values);
  }
}

// The device buffers of a convolution or linear layer's test in activation type T: x, dy and the
// outputs y, dx as T; the weights, bias and their gradients fp32; and room for the weights' bf16
// copy that a bf16 layer's passes read.
template <typename T>
struct LayerBuffers {
  DeviceBuffer<T> x, dy, y, dx;
  DeviceBuffer<float> w, b, dw, db;
  DeviceBuffer<BFloat16> w16;
};

template <typename T>
absl::StatusOr<LayerBuffers<T>> MakeLayerBuffers(std::span<const double> x,
                                                 std::span<const double> w,
                                                 std::span<const double> b,
                                                 std::span<const double> dy) {
  LayerBuffers<T> d;
  ASSIGN_OR_RETURN(d.x, UploadAs<T>(x));
  ASSIGN_OR_RETURN(d.dy, UploadAs<T>(dy));
  ASSIGN_OR_RETURN(d.y, DeviceBuffer<T>::Create(static_cast<int64_t>(dy.size())));
  ASSIGN_OR_RETURN(d.dx, DeviceBuffer<T>::Create(static_cast<int64_t>(x.size())));
  ASSIGN_OR_RETURN(d.w, Upload(w));
  ASSIGN_OR_RETURN(d.b, Upload(b));
  ASSIGN_OR_RETURN(d.dw, DeviceBuffer<float>::Create(static_cast<int64_t>(w.size())));
  ASSIGN_OR_RETURN(d.db, DeviceBuffer<float>::Create(static_cast<int64_t>(b.size())));
  ASSIGN_OR_RETURN(d.w16, DeviceBuffer<BFloat16>::Create(static_cast<int64_t>(w.size())));
  return d;
}

}  // namespace ald::cuda::testing
