// reshape: its shape rule, their errors, and that forward and backward are views
// over the input's storage (no copy).
#include "ops/reshape.h"

#include "ops/error_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::FailsWith;

TEST(ReshapeTest, ShapeRuleInfersOneExtent) {
  EXPECT_EQ(*ReshapeShape(Shape{2, 3, 4}, {{6, 4}}), (Shape{6, 4}));
  EXPECT_EQ(*ReshapeShape(Shape{2, 3, 4}, {{-1, 12}}), (Shape{2, 12}));
  EXPECT_EQ(*ReshapeShape(Shape{2, 3, 4}, {{4, -1, 2}}), (Shape{4, 3, 2}));
  EXPECT_EQ(*ReshapeShape(Shape{1, 1}, {{}}), Shape{});  // a scalar holds one element
}

TEST(ReshapeTest, ShapeRuleErrorsNameTheShapes) {
  EXPECT_TRUE(FailsWith(ReshapeShape(Shape{2, 3}, {{4, 2}}).status(),
                        "reshape: cannot view [2, 3] (6 elements) as [4, 2]"));
  EXPECT_TRUE(FailsWith(ReshapeShape(Shape{2, 3}, {{4, -1}}).status(),
                        "reshape: cannot view [2, 3] (6 elements) as [4, -1]"));
  EXPECT_TRUE(FailsWith(ReshapeShape(Shape{2, 3}, {{-1, -1}}).status(),
                        "reshape: more than one -1 in [-1, -1] (input [2, 3])"));
  EXPECT_TRUE(FailsWith(ReshapeShape(Shape{2, 3}, {{-2, -3}}).status(),
                        "reshape: extent -2 in [-2, -3] (input [2, 3])"));
  EXPECT_TRUE(FailsWith(ReshapeShape(Shape{0, 3}, {{0, -1}}).status(),
                        "reshape: cannot view [0, 3] (0 elements) as [0, -1]"));
}

// A view shares the storage: same address, and a write through it shows in the original.
void ExpectSameStorage(const Tensor& original, Tensor& view) {
  EXPECT_EQ(view.raw_data(), original.raw_data());
  view.data<float>()[view.num_elements() - 1] = 42.0f;
  EXPECT_EQ(original.values<float>().back(), 42.0f);
}

TEST(ReshapeTest, ForwardAndBackwardAreViews) {
  const Tensor x = testing::ZerosF32(Shape{2, 3, 4});
  absl::StatusOr<Tensor> y = ReshapeForward(x, {{4, -1}});
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->shape(), (Shape{4, 6}));
  ExpectSameStorage(x, *y);
  const Tensor dy = testing::ZerosF32(Shape{4, 6});
  absl::StatusOr<Tensor> dx = ReshapeBackward(dy, x.shape());
  ASSERT_TRUE(dx.ok()) << dx.status();
  EXPECT_EQ(dx->shape(), x.shape());
  ExpectSameStorage(dy, *dx);
}

TEST(ReshapeTest, ViewErrorsNameTheOp) {
  const Tensor dy = testing::ZerosF32(Shape{4, 5});
  EXPECT_TRUE(FailsWith(ReshapeBackward(dy, Shape{2, 3, 4}).status(),
                        "reshape backward: Reshape: cannot view f32[4, 5] cpu as [2, 3, 4]"));
  EXPECT_TRUE(FailsWith(ReshapeBackward(Tensor(), Shape{2}).status(),
                        "reshape backward: the tensor is undefined"));
}

}  // namespace
}  // namespace ald
