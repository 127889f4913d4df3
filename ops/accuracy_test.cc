// accuracy: hand-computed cases (including ties, which go to the lowest index) and bad calls.
#include "ops/ref/accuracy.h"

#include "ops/accuracy.h"
#include "ops/cpu/accuracy.h"
#include "ops/error_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::F32Tensor;
using testing::FailsWith;

absl::StatusOr<AccuracyResult> RunKernel(const Shape& shape, const std::vector<double>& logits,
                                         const std::vector<int32_t>& labels) {
  absl::StatusOr<std::unique_ptr<cpu::AccuracyCpu>> kernel = cpu::AccuracyCpu::Create(shape);
  if (!kernel.ok()) return kernel.status();
  return (*kernel)->Forward(F32Tensor(shape, logits), testing::I32Tensor(Shape{shape[0]}, labels));
}

// Row 0: argmax 1 = label: right. Row 1: a tie of classes 0 and 1 goes to 0, label 1: wrong.
// Row 2: the same tie, label 0: right. Row 3: all negative, argmax 0, label 2: wrong.
TEST(AccuracyTest, HandComputedCases) {
  // clang-format off
  const std::vector<double> logits = {0.1, 0.7, 0.2,
                                      0.5, 0.5, 0.1,
                                      0.5, 0.5, 0.1,
                                      -1., -3., -2.};
  // clang-format on
  absl::StatusOr<AccuracyResult> result = RunKernel(Shape{4, 3}, logits, {1, 1, 0, 2});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->correct, 2);
  EXPECT_EQ(result->total, 4);
  EXPECT_EQ(result->fraction(), 0.5);

  // Batch 1, one class: the only prediction is class 0, always right.
  result = RunKernel(Shape{1, 1}, {-5.0}, {0});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->correct, 1);
  EXPECT_EQ(result->fraction(), 1.0);

  // The maximum in the last column.
  result = RunKernel(Shape{2, 4}, {0, 1, 2, 3, 3, 2, 1, 0}, {3, 3});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->correct, 1);
}

TEST(AccuracyTest, ArgMaxTiesGoToTheLowestIndex) {
  const std::vector<double> row = {2, 5, 5, 1, 5};
  EXPECT_EQ(ref::ArgMax<double>(row), 1);
  const std::vector<double> flat = {0, 0, 0};
  EXPECT_EQ(ref::ArgMax<double>(flat), 0);
}

TEST(AccuracyTest, BadCallsNameTheOpAndValues) {
  EXPECT_TRUE(FailsWith(AccuracyShape(Shape{4}, DType::kF32, Shape{4}, DType::kI32).status(),
                        "accuracy: logits must be f32 [N, K] with N, K >= 1 (logits f32[4], "
                        "labels i32[4])"));
  EXPECT_TRUE(FailsWith(RunKernel(Shape{2, 3}, {0, 1, 2, 3, 4, 5}, {0, 3}).status(),
                        "accuracy forward: labels[1] = 3 is outside [0, 3)"));
  absl::StatusOr<std::unique_ptr<cpu::AccuracyCpu>> kernel = cpu::AccuracyCpu::Create(Shape{2, 3});
  ASSERT_TRUE(kernel.ok());
  const std::vector<int32_t> three = {0, 1, 2};
  EXPECT_TRUE(
      FailsWith((*kernel)
                    ->Forward(testing::ZerosF32(Shape{2, 3}), testing::I32Tensor(Shape{3}, three))
                    .status(),
                "accuracy forward: labels is i32[3] cpu, expected i32[2] cpu"));
}

}  // namespace
}  // namespace ald
