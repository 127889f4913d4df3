// ActivationLayout: the hand-written offset function against oneDNN's own nChw16c reorder, the
// byte sizes the memory planner relies on, and the errors for layouts a shape cannot take.
#include "ops/cpu/layout.h"

#include "ops/cpu/dnnl_util.h"
#include "ops/error_testing.h"
#include "ops/testing/layout_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using cpu::ActivationLayout;

// oneDNN places element (n, c, h, w) where ActivationOffset says, for both layouts.
TEST(LayoutTest, OffsetsFollowOneDnn) {
  for (const Shape& shape : {Shape{1, 16, 3, 5}, Shape{3, 32, 5, 3}}) {
    SCOPED_TRACE(shape.ToString());
    // Each element holds its own plain index, so the blocked copy says where each one went.
    std::vector<double> indices(shape.num_elements());
    for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<double>(i);
    const Tensor plain = testing::F32Tensor(shape, indices);
    for (ActivationLayout layout : {ActivationLayout::kPlain, ActivationLayout::kBlocked16}) {
      const std::vector<double> moved = testing::ToDoubles(testing::ToLayout(plain, layout));
      int64_t mismatches = 0;
      for (int64_t n = 0; n < shape[0]; ++n)
        for (int64_t c = 0; c < shape[1]; ++c)
          for (int64_t h = 0; h < shape[2]; ++h)
            for (int64_t w = 0; w < shape[3]; ++w) {
              const int64_t offset =
                  cpu::ActivationOffset(layout, shape[1], shape[2], shape[3], n, c, h, w);
              const double plain_index = ((n * shape[1] + c) * shape[2] + h) * shape[3] + w;
              mismatches += moved[offset] != plain_index;
            }
      EXPECT_EQ(mismatches, 0) << cpu::LayoutName(layout);
      // And the round trip restores the plain order.
      EXPECT_EQ(testing::PlainValues(testing::ToLayout(plain, layout), layout), indices);
    }
  }
}

// With C % 16 == 0 the blocked layout has no padding: the planner's byte sizes stay right.
TEST(LayoutTest, BlockedHasThePlainByteSize) {
  for (const Shape& shape : {Shape{1, 16, 1, 1}, Shape{3, 32, 7, 5}, Shape{2, 64, 8, 8}}) {
    EXPECT_EQ(cpu::ActivationDesc(shape, ActivationLayout::kBlocked16).get_size(),
              cpu::PlainDesc(shape).get_size())
        << shape.ToString();
  }
  EXPECT_TRUE(cpu::ActivationDesc(Shape{2, 5}, ActivationLayout::kPlain) ==
              cpu::PlainDesc(Shape{2, 5}));
}

TEST(LayoutTest, BlockedNeedsRankFourAndWholeChannelBlocks) {
  EXPECT_TRUE(cpu::CheckLayout("op", Shape{2, 3}, ActivationLayout::kPlain).ok());
  EXPECT_TRUE(cpu::CheckLayout("op", Shape{2, 48, 3, 3}, ActivationLayout::kBlocked16).ok());
  const absl::Status odd = cpu::CheckLayout("conv2d", Shape{2, 24, 3, 3},
                                            ActivationLayout::kBlocked16);
  EXPECT_EQ(odd.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(testing::FailsWith(
      odd, "conv2d: layout nChw16c needs channels a multiple of 16, got [2, 24, 3, 3]"));
  EXPECT_TRUE(testing::FailsWith(
      cpu::CheckLayout("relu", Shape{2, 32}, ActivationLayout::kBlocked16),
      "relu: layout nChw16c needs rank 4, got [2, 32]"));
  EXPECT_STREQ(cpu::LayoutName(ActivationLayout::kPlain), "plain");
}

}  // namespace
}  // namespace ald
