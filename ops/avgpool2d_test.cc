// avgpool2d's special cases: blocked layouts, a hand-computed padded window, bad calls. Forward
// against the reference (padding counted or not) and backward against finite differences: the
// op-case table (ops/testing/op_cases.h).
#include "ops/ref/avgpool2d.h"

#include "ops/cpu/avgpool2d.h"
#include "ops/error_testing.h"
#include "ops/pool_testing.h"
#include "ops/testing/layout_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::AllClose;
using testing::F32Tensor;
using testing::FailsWith;
using testing::RandomValues;
using testing::ToDoubles;

// The kernel on nChw16c and nChw8c tensors against the plain kernel: the same window sums,
// perhaps added in another order, so equal to float rounding (a few ulps of values <= 1).
TEST(AvgPool2dTest, BlockedLayoutGivesThePlainResults) {
  for (const cpu::ActivationLayout blocked_layout :
       {cpu::ActivationLayout::kBlocked16, cpu::ActivationLayout::kBlocked8}) {
    SCOPED_TRACE(cpu::LayoutName(blocked_layout));
    uint64_t seed = 50;
    for (const testing::PoolCase& c : testing::BlockedPoolCases()) {
      for (bool count_include_pad : {true, false}) {
        SCOPED_TRACE(c.input.ToString() + " " + DescribeWindow(c.window) +
                     (count_include_pad ? " including padding" : " excluding padding"));
        const AvgPool2dAttrs attrs{.window = c.window, .count_include_pad = count_include_pad};
        absl::StatusOr<std::unique_ptr<cpu::AvgPool2dCpu>> plain =
            cpu::AvgPool2dCpu::Create(c.input, attrs);
        absl::StatusOr<std::unique_ptr<cpu::AvgPool2dCpu>> blocked =
            cpu::AvgPool2dCpu::Create(c.input, attrs, blocked_layout);
        ASSERT_TRUE(plain.ok()) << plain.status();
        ASSERT_TRUE(blocked.ok()) << blocked.status();
        const Shape output = (*plain)->output_shape();
        const Tensor x = F32Tensor(c.input, RandomValues(c.input.num_elements(), seed++));
        const Tensor dy = F32Tensor(output, RandomValues(output.num_elements(), seed++));
        Tensor y = testing::ZerosF32(output), dx = testing::ZerosF32(c.input);
        ASSERT_TRUE((*plain)->Forward(x, y).ok());
        ASSERT_TRUE((*plain)->Backward(dy, dx).ok());
        Tensor y_b = testing::ZerosF32(output), dx_b = testing::ZerosF32(c.input);
        ASSERT_TRUE((*blocked)->Forward(testing::ToLayout(x, blocked_layout), y_b).ok());
        ASSERT_TRUE((*blocked)->Backward(testing::ToLayout(dy, blocked_layout), dx_b).ok());
        EXPECT_TRUE(
            AllClose(testing::PlainValues(y_b, blocked_layout), ToDoubles(y), 1e-6, 1e-6));
        EXPECT_TRUE(
            AllClose(testing::PlainValues(dx_b, blocked_layout), ToDoubles(dx), 1e-6, 1e-6));
      }
    }
  }
  EXPECT_TRUE(FailsWith(cpu::AvgPool2dCpu::Create(Shape{3, 20, 5, 5}, {},
                                                  cpu::ActivationLayout::kBlocked16)
                            .status(),
                        "avgpool2d: layout nChw16c needs channels a multiple of 16, got "
                        "[3, 20, 5, 5]"));
  EXPECT_TRUE(FailsWith(cpu::AvgPool2dCpu::Create(Shape{3, 12, 5, 5}, {},
                                                  cpu::ActivationLayout::kBlocked8)
                            .status(),
                        "avgpool2d: layout nChw8c needs channels a multiple of 8, got "
                        "[3, 12, 5, 5]"));
}

// The divisor with and without padding, computed by hand on a 2x2 input with a 2x2 window,
// stride 1 and padding 1: the corner window covers one real element (x = 4 there).
TEST(AvgPool2dTest, PaddingCountsOnlyWhenAsked) {
  const Shape input{1, 1, 2, 2};
  const Pool2dWindow window{.kernel = {2, 2}, .stride = {1, 1}, .padding = {1, 1}};
  const std::vector<double> values = {4, 8, 12, 16};
  for (bool count_include_pad : {true, false}) {
    absl::StatusOr<std::unique_ptr<cpu::AvgPool2dCpu>> kernel = cpu::AvgPool2dCpu::Create(
        input, {.window = window, .count_include_pad = count_include_pad});
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    ASSERT_EQ((*kernel)->output_shape(), (Shape{1, 1, 3, 3}));
    Tensor y = testing::ZerosF32(Shape{1, 1, 3, 3});
    ASSERT_TRUE((*kernel)->Forward(F32Tensor(input, values), y).ok());
    // Corner: 4 / 4 with padding counted, 4 / 1 without; centre: (4 + 8 + 12 + 16) / 4 = 10.
    EXPECT_EQ(y.at<float>({0, 0, 0, 0}), count_include_pad ? 1.0f : 4.0f);
    EXPECT_EQ(y.at<float>({0, 0, 1, 1}), 10.0f);
  }
}

TEST(AvgPool2dTest, BadCallsNameTheOpAndShapes) {
  EXPECT_TRUE(FailsWith(
      AvgPool2dShape(Shape{2, 3, 4, 4}, {.window = {.kernel = {5, 5}, .stride = {1, 1}}}).status(),
      "avgpool2d: kernel 5 is larger than the padded input 4 (window 5x5/1x1 pad 0x0, input "
      "[2, 3, 4, 4])"));
  EXPECT_TRUE(FailsWith(AvgPool2dShape(Shape{2, 3, 4}, {}).status(),
                        "avgpool2d: input [2, 3, 4] has rank 3"));
  absl::StatusOr<std::unique_ptr<cpu::AvgPool2dCpu>> kernel =
      cpu::AvgPool2dCpu::Create(Shape{1, 1, 4, 4}, {});
  ASSERT_TRUE(kernel.ok());
  Tensor dy = testing::ZerosF32(Shape{1, 1, 2, 2}), wrong_dx = testing::ZerosF32(Shape{1, 4, 4});
  EXPECT_TRUE(
      FailsWith((*kernel)->Backward(dy, wrong_dx),
                "avgpool2d backward: dx is f32[1, 4, 4] cpu, expected f32[1, 1, 4, 4] cpu"));
}

}  // namespace
}  // namespace ald
