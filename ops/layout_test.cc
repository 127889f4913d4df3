// ActivationLayout: the hand-written offset function against oneDNN's own nChw16c and nChw8c
// reorders, the byte sizes the memory planner relies on, and the errors for layouts a shape
// cannot take.
#include "ops/cpu/layout.h"

#include "ops/conv2d.h"
#include "ops/cpu/conv2d.h"
#include "ops/cpu/dnnl_util.h"
#include "ops/error_testing.h"
#include "ops/testing/layout_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using cpu::ActivationLayout;

// oneDNN places element (n, c, h, w) where ActivationOffset says, for every layout.
TEST(LayoutTest, OffsetsFollowOneDnn) {
  for (const Shape& shape : {Shape{1, 16, 3, 5}, Shape{3, 32, 5, 3}}) {
    SCOPED_TRACE(shape.ToString());
    // Each element holds its own plain index, so the blocked copy says where each one went.
    std::vector<double> indices(shape.num_elements());
    for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<double>(i);
    const Tensor plain = testing::F32Tensor(shape, indices);
    for (ActivationLayout layout : {ActivationLayout::kPlain, ActivationLayout::kBlocked16,
                                    ActivationLayout::kBlocked8, ActivationLayout::kChannelsLast}) {
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

// With C a multiple of the block the blocked layouts have no padding: the planner's byte sizes
// stay right.
TEST(LayoutTest, BlockedHasThePlainByteSize) {
  for (const Shape& shape : {Shape{1, 16, 1, 1}, Shape{3, 32, 7, 5}, Shape{2, 64, 8, 8}}) {
    EXPECT_EQ(cpu::ActivationDesc(shape, ActivationLayout::kBlocked16).get_size(),
              cpu::PlainDesc(shape).get_size())
        << shape.ToString();
  }
  for (const Shape& shape : {Shape{1, 8, 1, 1}, Shape{3, 24, 7, 5}, Shape{2, 16, 8, 8}}) {
    EXPECT_EQ(cpu::ActivationDesc(shape, ActivationLayout::kBlocked8).get_size(),
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
  EXPECT_TRUE(cpu::CheckLayout("op", Shape{2, 24, 3, 3}, ActivationLayout::kBlocked8).ok());
  EXPECT_TRUE(testing::FailsWith(
      cpu::CheckLayout("conv2d", Shape{2, 12, 3, 3}, ActivationLayout::kBlocked8),
      "conv2d: layout nChw8c needs channels a multiple of 8, got [2, 12, 3, 3]"));
  EXPECT_STREQ(cpu::LayoutName(ActivationLayout::kPlain), "plain");
  EXPECT_EQ(cpu::ChannelBlock(ActivationLayout::kBlocked16), 16);
  EXPECT_EQ(cpu::ChannelBlock(ActivationLayout::kBlocked8), 8);
  EXPECT_EQ(cpu::ChannelBlock(ActivationLayout::kChannelsLast), 1);
}

// ResNet's convolution: 3x3, stride 1, the spatial size kept, no bias.
Conv2dAttrs SamePadded3x3() {
  Conv2dAttrs attrs;
  attrs.stride = {1, 1};
  attrs.padding = {1, 1};
  attrs.bias = false;
  return attrs;
}

// The compiler's blocked layout is one this CPU has direct convolution kernels for: a ResNet
// convolution between two such activations never lands on oneDNN's reference loops in any
// pass (nChw16c on an AVX2 CPU did, and a ResNet-8 step took seconds).
TEST(LayoutTest, NativeBlockingHasDirectConvolutionKernels) {
  const ActivationLayout layout = cpu::NativeBlockedLayout();
  EXPECT_EQ(layout, cpu::Blocked16IsNative() ? ActivationLayout::kBlocked16
                                             : ActivationLayout::kBlocked8);
  const Conv2dAttrs attrs = SamePadded3x3();
  absl::StatusOr<std::unique_ptr<cpu::Conv2dCpu>> kernel =
      cpu::Conv2dCpu::Create(Shape{2, 16, 8, 8}, Shape{16, 16, 3, 3}, attrs, layout, layout);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  const cpu::Conv2dCpu::Passes& passes = (*kernel)->passes();
  EXPECT_FALSE(cpu::IsReferenceKernel(passes.forward_pd()))
      << cpu::LayoutName(layout) << ": " << passes.forward_pd().impl_info_str();
  EXPECT_FALSE(cpu::IsReferenceKernel(passes.backward_data_pd()))
      << cpu::LayoutName(layout) << ": " << passes.backward_data_pd().impl_info_str();
  EXPECT_FALSE(cpu::IsReferenceKernel(passes.backward_weights_pd()))
      << cpu::LayoutName(layout) << ": " << passes.backward_weights_pd().impl_info_str();
}

// A stem from a 1-channel plain image into the native blocked layout: oneDNN has no direct
// backward-weights kernel for it on AVX2, and its reference loops took a third of a ResNet-20
// step. The kernel runs that pass in plain layouts instead (GEMM), bridged. (Its backward-data
// may stay on the reference kernel: training never asks for the image's gradient.)
TEST(LayoutTest, StemIntoNativeBlockingAvoidsTheReferenceKernel) {
  const ActivationLayout layout = cpu::NativeBlockedLayout();
  const Conv2dAttrs attrs = SamePadded3x3();
  absl::StatusOr<std::unique_ptr<cpu::Conv2dCpu>> kernel = cpu::Conv2dCpu::Create(
      Shape{2, 1, 12, 12}, Shape{16, 1, 3, 3}, attrs, ActivationLayout::kPlain, layout);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  const cpu::Conv2dCpu::Passes& passes = (*kernel)->passes();
  EXPECT_FALSE(cpu::IsReferenceKernel(passes.forward_pd()))
      << cpu::LayoutName(layout) << ": " << passes.forward_pd().impl_info_str();
  EXPECT_FALSE(cpu::IsReferenceKernel(passes.backward_weights_pd()))
      << cpu::LayoutName(layout) << ": " << passes.backward_weights_pd().impl_info_str();
}

}  // namespace
}  // namespace ald
