// maxpool2d: the oneDNN kernel (training and inference forward) against the reference, blocked
// layouts, padding, bad calls. Backward against finite differences: the op-case table
// (ops/testing/op_cases.h).
#include "ops/ref/maxpool2d.h"

#include "ops/cpu/maxpool2d.h"
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

TEST(MaxPool2dTest, KernelMatchesReference) {
  uint64_t seed = 1;
  for (const testing::PoolCase& c : testing::PoolCases()) {
    SCOPED_TRACE(c.input.ToString() + " " + DescribeWindow(c.window));
    absl::StatusOr<std::unique_ptr<cpu::MaxPool2dCpu>> kernel =
        cpu::MaxPool2dCpu::Create(c.input, c.window);
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    const Shape output = (*kernel)->output_shape();
    Tensor x = F32Tensor(c.input, RandomValues(c.input.num_elements(), seed++));
    Tensor dy = F32Tensor(output, RandomValues(output.num_elements(), seed++));
    Tensor y = testing::ZerosF32(output), y_inference = testing::ZerosF32(output);
    Tensor dx = testing::ZerosF32(c.input);
    absl::StatusOr<Tensor> workspace = Tensor::Create((*kernel)->workspace_shape(), DType::kI32);
    ASSERT_TRUE(workspace.ok());
    ASSERT_TRUE((*kernel)->Forward(x, y, *workspace).ok());
    ASSERT_TRUE((*kernel)->ForwardInference(x, y_inference).ok());
    ASSERT_TRUE((*kernel)->Backward(dy, *workspace, dx).ok());

    const ref::PoolGeometry geometry = testing::GeometryOf(c.input, c.window);
    ASSERT_EQ(output, (Shape{c.input[0], c.input[1], geometry.out_height(), geometry.out_width()}));
    const std::vector<double> xs = ToDoubles(x), dys = ToDoubles(dy);
    std::vector<double> y_ref(output.num_elements()), dx_ref(c.input.num_elements());
    ref::MaxPool2dForward<double>(geometry, xs, y_ref);
    ref::MaxPool2dBackward<double>(geometry, xs, dys, dx_ref);
    // The maximum is one of the inputs: exact.
    EXPECT_TRUE(AllClose(ToDoubles(y), y_ref, 0, 0));
    EXPECT_TRUE(AllClose(ToDoubles(y_inference), y_ref, 0, 0));
    // Overlapping windows add a few float dy values into one dx: a few ulps of |dy| <= 1.
    EXPECT_TRUE(AllClose(ToDoubles(dx), dx_ref, 1e-6, 1e-6));
  }
}

// The kernel on nChw16c and nChw8c tensors against the plain kernel: the forward picks the same
// maxima (exact); dx sums dy over overlapping windows, perhaps in another order (a few ulps of 1).
TEST(MaxPool2dTest, BlockedLayoutGivesThePlainResults) {
  for (const cpu::ActivationLayout blocked_layout :
       {cpu::ActivationLayout::kBlocked16, cpu::ActivationLayout::kBlocked8}) {
    SCOPED_TRACE(cpu::LayoutName(blocked_layout));
    uint64_t seed = 50;
    for (const testing::PoolCase& c : testing::BlockedPoolCases()) {
      SCOPED_TRACE(c.input.ToString() + " " + DescribeWindow(c.window));
      absl::StatusOr<std::unique_ptr<cpu::MaxPool2dCpu>> plain =
          cpu::MaxPool2dCpu::Create(c.input, c.window);
      absl::StatusOr<std::unique_ptr<cpu::MaxPool2dCpu>> blocked =
          cpu::MaxPool2dCpu::Create(c.input, c.window, blocked_layout);
      ASSERT_TRUE(plain.ok()) << plain.status();
      ASSERT_TRUE(blocked.ok()) << blocked.status();
      // The workspace tensor holds oneDNN's workspace for this layout, rounded up to 4 bytes.
      const int64_t workspace_bytes = 4 * (*blocked)->workspace_shape().num_elements();
      const auto wanted_bytes = static_cast<int64_t>((*blocked)->workspace_desc().get_size());
      EXPECT_GE(workspace_bytes, wanted_bytes);
      EXPECT_LT(workspace_bytes, wanted_bytes + 4);
      const Shape output = (*plain)->output_shape();
      ASSERT_EQ((*blocked)->output_shape(), output);
      const Tensor x = F32Tensor(c.input, RandomValues(c.input.num_elements(), seed++));
      const Tensor dy = F32Tensor(output, RandomValues(output.num_elements(), seed++));

      Tensor y = testing::ZerosF32(output), dx = testing::ZerosF32(c.input);
      absl::StatusOr<Tensor> workspace = Tensor::Create((*plain)->workspace_shape(), DType::kI32);
      ASSERT_TRUE(workspace.ok());
      ASSERT_TRUE((*plain)->Forward(x, y, *workspace).ok());
      ASSERT_TRUE((*plain)->Backward(dy, *workspace, dx).ok());

      const Tensor x_b = testing::ToLayout(x, blocked_layout);
      const Tensor dy_b = testing::ToLayout(dy, blocked_layout);
      Tensor y_b = testing::ZerosF32(output), y_inference_b = testing::ZerosF32(output);
      Tensor dx_b = testing::ZerosF32(c.input);
      absl::StatusOr<Tensor> workspace_b =
          Tensor::Create((*blocked)->workspace_shape(), DType::kI32);
      ASSERT_TRUE(workspace_b.ok());
      ASSERT_TRUE((*blocked)->Forward(x_b, y_b, *workspace_b).ok());
      ASSERT_TRUE((*blocked)->ForwardInference(x_b, y_inference_b).ok());
      ASSERT_TRUE((*blocked)->Backward(dy_b, *workspace_b, dx_b).ok());
      EXPECT_TRUE(AllClose(testing::PlainValues(y_b, blocked_layout), ToDoubles(y), 0, 0));
      EXPECT_TRUE(
          AllClose(testing::PlainValues(y_inference_b, blocked_layout), ToDoubles(y), 0, 0));
      EXPECT_TRUE(
          AllClose(testing::PlainValues(dx_b, blocked_layout), ToDoubles(dx), 1e-6, 1e-6));
    }
  }
  const Pool2dWindow& window = testing::BlockedPoolCases()[0].window;
  EXPECT_TRUE(FailsWith(
      cpu::MaxPool2dCpu::Create(Shape{2, 8, 5, 5}, window, cpu::ActivationLayout::kBlocked16)
          .status(),
      "maxpool2d: layout nChw16c needs channels a multiple of 16, got [2, 8, 5, 5]"));
  EXPECT_TRUE(FailsWith(
      cpu::MaxPool2dCpu::Create(Shape{2, 12, 5, 5}, window, cpu::ActivationLayout::kBlocked8)
          .status(),
      "maxpool2d: layout nChw8c needs channels a multiple of 8, got [2, 12, 5, 5]"));
}

TEST(MaxPool2dTest, PaddingNeverWins) {
  // All inputs negative: a padded zero would beat them if padding took part in the max.
  const Shape input{1, 1, 3, 3};
  const Pool2dWindow window{.kernel = {2, 2}, .stride = {2, 2}, .padding = {1, 1}};
  absl::StatusOr<std::unique_ptr<cpu::MaxPool2dCpu>> kernel =
      cpu::MaxPool2dCpu::Create(input, window);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  Tensor x = F32Tensor(input, RandomValues(9, 7, -2.0, -1.0));
  Tensor y = testing::ZerosF32((*kernel)->output_shape());
  ASSERT_TRUE((*kernel)->ForwardInference(x, y).ok());
  for (double value : ToDoubles(y)) EXPECT_LT(value, -0.5);
}

TEST(MaxPool2dTest, ShapeRuleRejectsBadWindows) {
  const Pool2dWindow two{.kernel = {2, 2}, .stride = {2, 2}, .padding = {0, 0}};
  EXPECT_TRUE(FailsWith(MaxPool2dShape(Shape{1, 2, 3}, two).status(),
                        "maxpool2d: input [1, 2, 3] has rank 3, expected [N, C, H, W]"));
  EXPECT_TRUE(FailsWith(MaxPool2dShape(Shape{0, 2, 3, 3}, two).status(),
                        "maxpool2d: input [0, 2, 3, 3] is empty"));
  EXPECT_TRUE(FailsWith(
      MaxPool2dShape(Shape{1, 1, 2, 5}, {.kernel = {3, 3}, .stride = {1, 1}, .padding = {0, 0}})
          .status(),
      "maxpool2d: kernel 3 is larger than the padded input 2 (window 3x3/1x1 pad 0x0, input "
      "[1, 1, 2, 5])"));
  EXPECT_TRUE(FailsWith(
      MaxPool2dShape(Shape{1, 1, 8, 8}, {.kernel = {2, 2}, .stride = {1, 1}, .padding = {2, 0}})
          .status(),
      "maxpool2d: padding 2 is more than half the kernel 2"));
  EXPECT_TRUE(FailsWith(
      MaxPool2dShape(Shape{1, 1, 8, 8}, {.kernel = {2, 2}, .stride = {0, 1}, .padding = {0, 0}})
          .status(),
      "maxpool2d: kernel and stride must be >= 1 and padding >= 0 (window 2x2/0x1 pad 0x0"));
  EXPECT_TRUE(FailsWith(cpu::MaxPool2dCpu::Create(Shape{4, 4}, two).status(),
                        "maxpool2d: input [4, 4] has rank 2"));
}

TEST(MaxPool2dTest, KernelRejectsWrongTensors) {
  const Shape input{1, 2, 4, 4};
  const Pool2dWindow two{.kernel = {2, 2}, .stride = {2, 2}, .padding = {0, 0}};
  absl::StatusOr<std::unique_ptr<cpu::MaxPool2dCpu>> kernel = cpu::MaxPool2dCpu::Create(input, two);
  ASSERT_TRUE(kernel.ok());
  Tensor x = testing::ZerosF32(input), y = testing::ZerosF32(Shape{1, 2, 2, 2});
  Tensor wrong_y = testing::ZerosF32(Shape{1, 2, 4, 4});
  absl::StatusOr<Tensor> workspace = Tensor::Create((*kernel)->workspace_shape(), DType::kI32);
  ASSERT_TRUE(workspace.ok());
  EXPECT_TRUE(
      FailsWith((*kernel)->Forward(x, wrong_y, *workspace),
                "maxpool2d forward: y is f32[1, 2, 4, 4] cpu, expected f32[1, 2, 2, 2] cpu"));
  Tensor float_workspace = testing::ZerosF32((*kernel)->workspace_shape());
  EXPECT_TRUE(FailsWith((*kernel)->Backward(y, float_workspace, x),
                        "maxpool2d backward: workspace is f32"));
}

}  // namespace
}  // namespace ald
