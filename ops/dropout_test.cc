// dropout: the mask's statistics and reproducibility, the hand-written kernel against the
// reference for the same mask, the reference's backward against finite differences, bad calls.
#include "ops/ref/dropout.h"

#include <cmath>

#include "ops/cpu/dropout.h"
#include "ops/error_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::AllClose;
using testing::F32Tensor;
using testing::FailsWith;
using testing::RandomValues;
using testing::ToDoubles;

int64_t CountDropped(const std::vector<uint8_t>& keep) {
  int64_t dropped = 0;
  for (uint8_t kept : keep) dropped += kept ? 0 : 1;
  return dropped;
}

// The dropped count is Binomial(n, p): allow 5 standard deviations, sqrt(n p (1 - p)), which a
// correct generator exceeds with probability < 1e-6 (the seeds are fixed, so the test is
// deterministic; the bound says how surprising a failure would be).
TEST(DropoutTest, DroppedFractionIsNearP) {
  const int64_t n = 100000;
  for (float p : {0.1f, 0.3f, 0.5f, 0.9f}) {
    SCOPED_TRACE(p);
    const std::vector<uint8_t> keep = DropoutKeepMask({.p = p}, {.seed = 7, .step = 3}, n);
    const double sd = std::sqrt(n * p * (1.0 - p));
    EXPECT_NEAR(static_cast<double>(CountDropped(keep)), n * p, 5 * sd);
  }
  EXPECT_EQ(CountDropped(DropoutKeepMask({.p = 0.0f}, {.seed = 7}, n)), 0);
}

TEST(DropoutTest, MaskIsAPureFunctionOfItsKey) {
  const int64_t n = 1000;
  const DropoutAttrs attrs{.p = 0.5f};
  const DropoutKey key{.seed = 11, .worker = 2, .step = 5};
  const std::vector<uint8_t> mask = DropoutKeepMask(attrs, key, n);
  EXPECT_EQ(DropoutKeepMask(attrs, key, n), mask);
  // Any change of the key or the layer gives another mask (equal by chance with prob. 2^-1000).
  EXPECT_NE(DropoutKeepMask(attrs, {.seed = 11, .worker = 2, .step = 6}, n), mask);
  EXPECT_NE(DropoutKeepMask(attrs, {.seed = 11, .worker = 3, .step = 5}, n), mask);
  EXPECT_NE(DropoutKeepMask(attrs, {.seed = 12, .worker = 2, .step = 5}, n), mask);
  EXPECT_NE(DropoutKeepMask({.p = 0.5f, .layer = 1}, key, n), mask);
  // A stream started at element 100 continues the same mask.
  DropoutKeepStream from_100(attrs, key, 100);
  for (int64_t i = 100; i < n; ++i) ASSERT_EQ(from_100.Next(), mask[i] == 1) << i;
}

// The kernel multiplies by the float 1 / (1 - p); the reference divides in double: within
// two float roundings (rtol 2.4e-7). Masked elements are exactly 0 in both.
TEST(DropoutTest, KernelMatchesReferenceAndBackwardReusesTheMask) {
  uint64_t seed = 1;
  for (const Shape& shape : {Shape{1}, Shape{7}, Shape{2, 3, 5, 5}, Shape{64, 100}}) {
    for (float p : {0.0f, 0.2f, 0.5f}) {
      SCOPED_TRACE(shape.ToString() + " p " + std::to_string(p));
      const int64_t n = shape.num_elements();
      const DropoutAttrs attrs{.p = p, .layer = 3};
      const DropoutKey key{.seed = 99, .worker = 1, .step = 42};
      absl::StatusOr<std::unique_ptr<cpu::DropoutCpu>> kernel =
          cpu::DropoutCpu::Create(shape, attrs);
      ASSERT_TRUE(kernel.ok()) << kernel.status();
      Tensor x = F32Tensor(shape, RandomValues(n, seed++, 0.5, 1.0));
      Tensor dy = F32Tensor(shape, RandomValues(n, seed++, 0.5, 1.0));
      Tensor y = testing::ZerosF32(shape), dx = testing::ZerosF32(shape);
      ASSERT_TRUE((*kernel)->Forward(x, key, y).ok());
      ASSERT_TRUE((*kernel)->Backward(dy, key, dx).ok());

      const std::vector<uint8_t> keep = DropoutKeepMask(attrs, key, n);
      std::vector<double> y_ref(n), dx_ref(n);
      ref::DropoutForward<double>(ToDoubles(x), keep, p, y_ref);
      ref::DropoutBackward<double>(ToDoubles(dy), keep, p, dx_ref);
      EXPECT_TRUE(AllClose(ToDoubles(y), y_ref, 0, 2.4e-7));
      EXPECT_TRUE(AllClose(ToDoubles(dx), dx_ref, 0, 2.4e-7));
      // Inputs are >= 0.5, so a zero marks a dropped element: forward and backward agree.
      const std::vector<double> ys = ToDoubles(y), dxs = ToDoubles(dx);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(ys[i] == 0, dxs[i] == 0) << i;
    }
  }
}

TEST(DropoutTest, InferenceIsTheIdentity) {
  const Shape shape{3, 4};
  absl::StatusOr<std::unique_ptr<cpu::DropoutCpu>> kernel = cpu::DropoutCpu::Create(shape, {});
  ASSERT_TRUE(kernel.ok());
  Tensor x = F32Tensor(shape, RandomValues(12, 51)), y = testing::ZerosF32(shape);
  ASSERT_TRUE((*kernel)->ForwardInference(x, y).ok());
  EXPECT_TRUE(AllClose(ToDoubles(y), ToDoubles(x), 0, 0));
  ASSERT_TRUE((*kernel)->ForwardInference(x, x).ok());
}

// For a fixed mask dropout is linear: central differences are exact up to rounding.
TEST(DropoutTest, ReferenceBackwardMatchesFiniteDifferences) {
  const int64_t n = 60;
  const double p = 0.25;
  const std::vector<uint8_t> keep = DropoutKeepMask({.p = 0.25f}, {.seed = 3}, n);
  const std::vector<double> x = RandomValues(n, 61), upstream = RandomValues(n, 62);
  std::vector<double> dx(n);
  ref::DropoutBackward<double>(upstream, keep, p, dx);
  auto f = [&](const std::vector<std::vector<double>>& in) {
    std::vector<double> out(n);
    ref::DropoutForward<double>(in[0], keep, p, out);
    return out;
  };
  EXPECT_TRUE(testing::CheckGradients(f, {x}, upstream, {dx}, {0}, 1e-6, 1e-8, 1e-7));
}

TEST(DropoutTest, BadCallsNameTheOpAndValues) {
  EXPECT_TRUE(FailsWith(DropoutShape(Shape{2, 3}, {.p = 1.0f}).status(),
                        "dropout: p = 1 is outside [0, 1) (input [2, 3])"));
  EXPECT_TRUE(FailsWith(DropoutShape(Shape{2, 3}, {.p = -0.1f}).status(),
                        "dropout: p = -0.1 is outside [0, 1)"));
  EXPECT_TRUE(FailsWith(DropoutShape(Shape{2}, {.p = std::nanf("")}).status(),
                        "dropout: p = nan is outside [0, 1)"));
  EXPECT_TRUE(FailsWith(cpu::DropoutCpu::Create(Shape{4}, {.p = 1.5f}).status(),
                        "dropout: p = 1.5 is outside [0, 1)"));
  absl::StatusOr<std::unique_ptr<cpu::DropoutCpu>> kernel = cpu::DropoutCpu::Create(Shape{4}, {});
  ASSERT_TRUE(kernel.ok());
  Tensor x = testing::ZerosF32(Shape{4}), wrong = testing::ZerosF32(Shape{2, 2});
  EXPECT_TRUE(FailsWith((*kernel)->Forward(x, {}, wrong),
                        "dropout forward: y is f32[2, 2] cpu, expected f32[4] cpu"));
  EXPECT_TRUE(FailsWith((*kernel)->Backward(wrong, {}, x),
                        "dropout backward: dy is f32[2, 2] cpu, expected f32[4] cpu"));
}

}  // namespace
}  // namespace ald
