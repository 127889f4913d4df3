// global_avgpool's special cases: a blocked input, bad calls. Forward against the reference and
// backward against finite differences: the op-case table (ops/testing/op_cases.h).
#include "ops/ref/global_avgpool.h"

#include "ops/cpu/global_avgpool.h"
#include "ops/error_testing.h"
#include "ops/global_avgpool.h"
#include "ops/testing/layout_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::AllClose;
using testing::F32Tensor;
using testing::FailsWith;
using testing::RandomValues;
using testing::ToDoubles;

// An nChw16c or nChw8c input (and dx) with the output read as plain [N, C] directly, no
// reorder: an nChw16c (nChw8c) [N, C, 1, 1] is stored in [N, C] order. Means may be summed in
// another order than the plain kernel's (float rounding); dx = dy / (H*W) is one rounding
// either way.
TEST(GlobalAvgPoolTest, BlockedInputGivesThePlainResults) {
  for (const cpu::ActivationLayout blocked_layout :
       {cpu::ActivationLayout::kBlocked16, cpu::ActivationLayout::kBlocked8}) {
    SCOPED_TRACE(cpu::LayoutName(blocked_layout));
    uint64_t seed = 50;
    for (const Shape& input : {Shape{1, 16, 7, 5}, Shape{3, 32, 5, 3}, Shape{3, 16, 1, 1}}) {
      SCOPED_TRACE(input.ToString());
      absl::StatusOr<std::unique_ptr<cpu::GlobalAvgPoolCpu>> plain =
          cpu::GlobalAvgPoolCpu::Create(input);
      absl::StatusOr<std::unique_ptr<cpu::GlobalAvgPoolCpu>> blocked =
          cpu::GlobalAvgPoolCpu::Create(input, blocked_layout);
      ASSERT_TRUE(plain.ok()) << plain.status();
      ASSERT_TRUE(blocked.ok()) << blocked.status();
      const Shape output{input[0], input[1]};
      ASSERT_EQ((*blocked)->output_shape(), output);
      const Tensor x = F32Tensor(input, RandomValues(input.num_elements(), seed++));
      const Tensor dy = F32Tensor(output, RandomValues(output.num_elements(), seed++));
      Tensor y = testing::ZerosF32(output), dx = testing::ZerosF32(input);
      ASSERT_TRUE((*plain)->Forward(x, y).ok());
      ASSERT_TRUE((*plain)->Backward(dy, dx).ok());
      Tensor y_b = testing::ZerosF32(output), dx_b = testing::ZerosF32(input);
      ASSERT_TRUE((*blocked)->Forward(testing::ToLayout(x, blocked_layout), y_b).ok());
      ASSERT_TRUE((*blocked)->Backward(dy, dx_b).ok());
      EXPECT_TRUE(AllClose(ToDoubles(y_b), ToDoubles(y), 1e-6, 1e-6));
      EXPECT_TRUE(
          AllClose(testing::PlainValues(dx_b, blocked_layout), ToDoubles(dx), 1e-7, 1e-6));
    }
  }
  EXPECT_TRUE(FailsWith(
      cpu::GlobalAvgPoolCpu::Create(Shape{2, 10, 4, 4}, cpu::ActivationLayout::kBlocked16)
          .status(),
      "global_avgpool: layout nChw16c needs channels a multiple of 16, got [2, 10, 4, 4]"));
  EXPECT_TRUE(FailsWith(
      cpu::GlobalAvgPoolCpu::Create(Shape{2, 12, 4, 4}, cpu::ActivationLayout::kBlocked8)
          .status(),
      "global_avgpool: layout nChw8c needs channels a multiple of 8, got [2, 12, 4, 4]"));
}

TEST(GlobalAvgPoolTest, BadCallsNameTheOpAndShapes) {
  EXPECT_TRUE(FailsWith(GlobalAvgPoolShape(Shape{2, 3, 4}).status(),
                        "global_avgpool: input [2, 3, 4] has rank 3, expected [N, C, H, W]"));
  EXPECT_TRUE(FailsWith(GlobalAvgPoolShape(Shape{2, 3, 0, 4}).status(),
                        "global_avgpool: input [2, 3, 0, 4] is empty"));
  absl::StatusOr<std::unique_ptr<cpu::GlobalAvgPoolCpu>> kernel =
      cpu::GlobalAvgPoolCpu::Create(Shape{2, 3, 4, 4});
  ASSERT_TRUE(kernel.ok());
  Tensor x = testing::ZerosF32(Shape{2, 3, 4, 4}), y4 = testing::ZerosF32(Shape{2, 3, 1, 1});
  EXPECT_TRUE(
      FailsWith((*kernel)->Forward(x, y4),
                "global_avgpool forward: y is f32[2, 3, 1, 1] cpu, expected f32[2, 3] cpu"));
}

}  // namespace
}  // namespace ald
