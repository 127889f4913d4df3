// flatten: its shape rule, its errors, and that forward and backward are views over the
// input's storage (no copy).
#include "ops/flatten.h"

#include "ops/error_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::FailsWith;

TEST(FlattenTest, ShapeRule) {
  EXPECT_EQ(*FlattenShape(Shape{8, 16, 4, 4}), (Shape{8, 256}));
  EXPECT_EQ(*FlattenShape(Shape{1, 10}), (Shape{1, 10}));
  EXPECT_EQ(*FlattenShape(Shape{0, 3, 5}), (Shape{0, 15}));
  EXPECT_TRUE(FailsWith(FlattenShape(Shape{7}).status(),
                        "flatten: input [7] has rank 1, expected [N, ...] of rank >= 2"));
}

TEST(FlattenTest, ForwardAndBackwardAreViews) {
  const Tensor x = testing::ZerosF32(Shape{2, 3, 2, 2});
  absl::StatusOr<Tensor> y = FlattenForward(x);
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->shape(), (Shape{2, 12}));
  EXPECT_EQ(y->raw_data(), x.raw_data());
  const Tensor dy = testing::ZerosF32(Shape{2, 12});
  absl::StatusOr<Tensor> dx = FlattenBackward(dy, x.shape());
  ASSERT_TRUE(dx.ok()) << dx.status();
  EXPECT_EQ(dx->shape(), x.shape());
  EXPECT_EQ(dx->raw_data(), dy.raw_data());
  EXPECT_TRUE(FailsWith(FlattenBackward(dy, Shape{2, 3, 3}).status(),
                        "flatten backward: Reshape: cannot view f32[2, 12] cpu as [2, 3, 3]"));
}

}  // namespace
}  // namespace ald
