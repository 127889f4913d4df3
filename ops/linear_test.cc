// Linear: the shape rule's errors and bad calls. Forward and both backward passes against the
// reference, and backward against finite differences: the op-case table (ops/testing/op_cases.h).
#include "ops/linear.h"

#include "ops/cpu/linear.h"
#include "ops/ref/linear.h"
#include "ops/error_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::AllClose;
using testing::F32Tensor;
using testing::RandomValues;
using testing::ToDoubles;
using testing::ZerosF32;

void ExpectError(const absl::Status& status, const std::string& expected) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(testing::FailsWith(status, expected));
}

TEST(LinearTest, ShapeRuleNamesTheOpAndShapes) {
  ExpectError(InferLinear(Shape{8, 64}, Shape{10, 32}).status(),
              "linear: input has 64 features, weight expects 32 (input [8, 64], weight [10, 32])");
  ExpectError(InferLinear(Shape{8, 4, 4}, Shape{10, 16}).status(),
              "linear: input has rank 3, expected 2 (N, in) (input [8, 4, 4], weight [10, 16])");
  ExpectError(InferLinear(Shape{8, 16}, Shape{16}).status(), "weight has rank 1");
  ExpectError(InferLinear(Shape{8, 16}, Shape{0, 16}).status(),
              "linear: every extent must be >= 1 (input [8, 16], weight [0, 16])");
  absl::StatusOr<LinearShapes> shapes = InferLinear(Shape{8, 16}, Shape{10, 16});
  ASSERT_TRUE(shapes.ok());
  EXPECT_EQ(shapes->output, (Shape{8, 10}));
  EXPECT_EQ(shapes->bias, (Shape{10}));
}

TEST(LinearTest, KernelRejectsBadShapesAndTensors) {
  ExpectError(cpu::LinearCpu::Create(Shape{8, 64}, Shape{10, 32}, {}).status(),
              "linear: input has 64 features");
  auto kernel = cpu::LinearCpu::Create(Shape{4, 6}, Shape{3, 6}, {});
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  Tensor x = ZerosF32(Shape{4, 6}), w = ZerosF32(Shape{3, 6}), b = ZerosF32(Shape{3});
  Tensor y = ZerosF32(Shape{4, 3}), wrong = ZerosF32(Shape{6, 4});
  ExpectError((*kernel)->Forward(wrong, w, b, y),
              "linear forward: x is f32[6, 4] cpu, expected f32[4, 6] cpu");
  ExpectError((*kernel)->BackwardData(y, w, wrong),
              "linear backward data: dx is f32[6, 4] cpu, expected f32[4, 6] cpu");
  Tensor undefined;
  ExpectError((*kernel)->BackwardWeights(x, y, w, undefined),
              "linear backward weights: db is undefined");
}

}  // namespace
}  // namespace ald
