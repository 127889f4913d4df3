// add's special cases: blocked layouts, in place, bad calls. Forward (plain and fused ReLU)
// against the reference and backward against finite differences: the op-case table
// (ops/testing/op_cases.h).
#include "ops/ref/add.h"

#include "ops/cpu/add.h"
#include "ops/error_testing.h"
#include "ops/testing/layout_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::AllClose;
using testing::F32Tensor;
using testing::FailsWith;
using testing::RandomValues;
using testing::ToDoubles;

// a, b, y, dy and dx all in nChw16c, then all in nChw8c: elementwise, so exactly the plain
// kernel's values.
TEST(AddTest, BlockedLayoutGivesThePlainResults) {
  for (const cpu::ActivationLayout blocked_layout :
       {cpu::ActivationLayout::kBlocked16, cpu::ActivationLayout::kBlocked8}) {
    SCOPED_TRACE(cpu::LayoutName(blocked_layout));
    uint64_t seed = 50;
    for (const Shape& shape : {Shape{1, 16, 5, 7}, Shape{3, 32, 3, 5}}) {
      for (bool fuse_relu : {false, true}) {
        SCOPED_TRACE(shape.ToString() + (fuse_relu ? " fused relu" : ""));
        const int64_t n = shape.num_elements();
        const Tensor a = F32Tensor(shape, RandomValues(n, seed++));
        const Tensor b = F32Tensor(shape, RandomValues(n, seed++));
        const Tensor dy = F32Tensor(shape, RandomValues(n, seed++));
        absl::StatusOr<std::unique_ptr<cpu::AddCpu>> plain =
            cpu::AddCpu::Create(shape, {.fuse_relu = fuse_relu});
        absl::StatusOr<std::unique_ptr<cpu::AddCpu>> blocked =
            cpu::AddCpu::Create(shape, {.fuse_relu = fuse_relu}, blocked_layout);
        ASSERT_TRUE(plain.ok()) << plain.status();
        ASSERT_TRUE(blocked.ok()) << blocked.status();
        Tensor y = testing::ZerosF32(shape), y_b = testing::ZerosF32(shape);
        ASSERT_TRUE((*plain)->Forward(a, b, y).ok());
        ASSERT_TRUE((*blocked)
                        ->Forward(testing::ToLayout(a, blocked_layout),
                                  testing::ToLayout(b, blocked_layout), y_b)
                        .ok());
        EXPECT_TRUE(AllClose(testing::PlainValues(y_b, blocked_layout), ToDoubles(y), 0, 0));
        if (!fuse_relu) continue;
        Tensor dx = testing::ZerosF32(shape), dx_b = testing::ZerosF32(shape);
        ASSERT_TRUE((*plain)->Backward(y, dy, dx).ok());
        ASSERT_TRUE((*blocked)->Backward(y_b, testing::ToLayout(dy, blocked_layout), dx_b).ok());
        EXPECT_TRUE(AllClose(testing::PlainValues(dx_b, blocked_layout), ToDoubles(dx), 0, 0));
      }
    }
  }
  EXPECT_TRUE(FailsWith(
      cpu::AddCpu::Create(Shape{2, 8, 3, 3}, {}, cpu::ActivationLayout::kBlocked16).status(),
      "add: layout nChw16c needs channels a multiple of 16, got [2, 8, 3, 3]"));
  EXPECT_TRUE(FailsWith(
      cpu::AddCpu::Create(Shape{2, 12, 3, 3}, {}, cpu::ActivationLayout::kBlocked8).status(),
      "add: layout nChw8c needs channels a multiple of 8, got [2, 12, 3, 3]"));
}

// The residual path writes its sum over the shortcut's buffer.
TEST(AddTest, ForwardRunsInPlace) {
  const Shape shape{2, 3, 4, 4};
  const int64_t n = shape.num_elements();
  Tensor a = F32Tensor(shape, RandomValues(n, 41)), b = F32Tensor(shape, RandomValues(n, 42));
  std::vector<double> expected(n);
  ref::AddForward<double>(ToDoubles(a), ToDoubles(b), true, expected);
  absl::StatusOr<std::unique_ptr<cpu::AddCpu>> kernel = cpu::AddCpu::Create(shape, {true});
  ASSERT_TRUE(kernel.ok());
  ASSERT_TRUE((*kernel)->Forward(a, b, a).ok());
  EXPECT_TRUE(AllClose(ToDoubles(a), expected, 0, 1e-7));
}

TEST(AddTest, BadCallsNameTheOpAndShapes) {
  EXPECT_TRUE(FailsWith(AddShape(Shape{2, 3}, Shape{3, 2}).status(),
                        "add: input shapes [2, 3] and [3, 2] differ (no broadcasting)"));
  absl::StatusOr<std::unique_ptr<cpu::AddCpu>> kernel = cpu::AddCpu::Create(Shape{2, 3}, {});
  ASSERT_TRUE(kernel.ok());
  Tensor a = testing::ZerosF32(Shape{2, 3}), wrong = testing::ZerosF32(Shape{6});
  EXPECT_TRUE(FailsWith((*kernel)->Forward(a, wrong, a),
                        "add forward: b is f32[6] cpu, expected f32[2, 3] cpu"));
  const absl::Status unfused = (*kernel)->Backward(a, a, a);
  EXPECT_EQ(unfused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(FailsWith(unfused, "add backward: without fuse_relu"));

  absl::StatusOr<std::unique_ptr<cpu::AddCpu>> fused = cpu::AddCpu::Create(Shape{2, 3}, {true});
  ASSERT_TRUE(fused.ok());
  EXPECT_TRUE(FailsWith((*fused)->Backward(a, wrong, a),
                        "add backward: dy is f32[6] cpu, expected f32[2, 3] cpu"));
}

}  // namespace
}  // namespace ald
