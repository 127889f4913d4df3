// ReLU's special cases: in place, blocked layouts, bad calls. Forward against the reference and
// backward against finite differences: the op-case table (ops/testing/op_cases.h).
#include "ops/ref/relu.h"

#include "ops/cpu/relu.h"
#include "ops/error_testing.h"
#include "ops/testing/layout_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::AllClose;
using testing::F32Tensor;
using testing::RandomValues;
using testing::ToDoubles;

TEST(ReluTest, ForwardRunsInPlace) {
  const Shape shape{2, 3, 4, 4};
  Tensor x = F32Tensor(shape, RandomValues(shape.num_elements(), 3));
  const std::vector<double> before = ToDoubles(x);
  std::vector<double> expected(before.size());
  ref::ReluForward<double>(before, expected);
  absl::StatusOr<std::unique_ptr<cpu::ReluCpu>> kernel = cpu::ReluCpu::Create(shape);
  ASSERT_TRUE(kernel.ok());
  ASSERT_TRUE((*kernel)->Forward(x, x).ok());
  EXPECT_TRUE(AllClose(ToDoubles(x), expected, 0, 0));
}

// The kernel on nChw16c and nChw8c tensors gives exactly the plain kernel's values (ReLU is
// elementwise and exact), read back through a reorder.
TEST(ReluTest, BlockedLayoutGivesThePlainResults) {
  for (const cpu::ActivationLayout blocked_layout :
       {cpu::ActivationLayout::kBlocked16, cpu::ActivationLayout::kBlocked8}) {
    SCOPED_TRACE(cpu::LayoutName(blocked_layout));
    for (const Shape& shape : {Shape{1, 16, 5, 7}, Shape{3, 32, 3, 5}}) {
      SCOPED_TRACE(shape.ToString());
      const int64_t n = shape.num_elements();
      const Tensor x = F32Tensor(shape, RandomValues(n, 6));
      const Tensor dy = F32Tensor(shape, RandomValues(n, 7));
      absl::StatusOr<std::unique_ptr<cpu::ReluCpu>> plain = cpu::ReluCpu::Create(shape);
      absl::StatusOr<std::unique_ptr<cpu::ReluCpu>> blocked =
          cpu::ReluCpu::Create(shape, blocked_layout);
      ASSERT_TRUE(plain.ok()) << plain.status();
      ASSERT_TRUE(blocked.ok()) << blocked.status();
      Tensor y = testing::ZerosF32(shape), dx = testing::ZerosF32(shape);
      ASSERT_TRUE((*plain)->Forward(x, y).ok());
      ASSERT_TRUE((*plain)->Backward(y, dy, dx).ok());
      const Tensor x_b = testing::ToLayout(x, blocked_layout);
      const Tensor dy_b = testing::ToLayout(dy, blocked_layout);
      Tensor y_b = testing::ZerosF32(shape), dx_b = testing::ZerosF32(shape);
      ASSERT_TRUE((*blocked)->Forward(x_b, y_b).ok());
      ASSERT_TRUE((*blocked)->Backward(y_b, dy_b, dx_b).ok());
      EXPECT_TRUE(AllClose(testing::PlainValues(y_b, blocked_layout), ToDoubles(y), 0, 0));
      EXPECT_TRUE(AllClose(testing::PlainValues(dx_b, blocked_layout), ToDoubles(dx), 0, 0));
    }
  }
  EXPECT_TRUE(testing::FailsWith(
      cpu::ReluCpu::Create(Shape{2, 24, 3, 3}, cpu::ActivationLayout::kBlocked16).status(),
      "relu: layout nChw16c needs channels a multiple of 16, got [2, 24, 3, 3]"));
  EXPECT_TRUE(testing::FailsWith(
      cpu::ReluCpu::Create(Shape{2, 12, 3, 3}, cpu::ActivationLayout::kBlocked8).status(),
      "relu: layout nChw8c needs channels a multiple of 8, got [2, 12, 3, 3]"));
  EXPECT_TRUE(testing::FailsWith(
      cpu::ReluCpu::Create(Shape{2, 32}, cpu::ActivationLayout::kBlocked16).status(),
      "relu: layout nChw16c needs rank 4, got [2, 32]"));
  EXPECT_TRUE(testing::FailsWith(
      cpu::ReluCpu::Create(Shape{2, 32}, cpu::ActivationLayout::kBlocked8).status(),
      "relu: layout nChw8c needs rank 4, got [2, 32]"));
}

TEST(ReluTest, BadCallsNameTheOpAndShapes) {
  absl::StatusOr<std::unique_ptr<cpu::ReluCpu>> kernel = cpu::ReluCpu::Create(Shape{2, 3});
  ASSERT_TRUE(kernel.ok());
  Tensor x = testing::ZerosF32(Shape{2, 3}), wrong = testing::ZerosF32(Shape{3, 2});
  absl::Status status = (*kernel)->Forward(x, wrong);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("relu forward: y is f32[3, 2] cpu, expected f32[2, 3] cpu"),
            std::string::npos)
      << status;
  Tensor undefined;
  EXPECT_FALSE((*kernel)->Backward(x, undefined, x).ok());
}

}  // namespace
}  // namespace ald
