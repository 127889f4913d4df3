// shortcut_pad: the kernel against the reference with every output element written, blocked
// layouts, and the shape rule's errors. Backward against finite differences: the op-case table
// (ops/testing/op_cases.h).
#include "ops/ref/shortcut_pad.h"

#include "ops/cpu/shortcut_pad.h"
#include "ops/error_testing.h"
#include "ops/testing/layout_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::AllClose;
using testing::F32Tensor;
using testing::RandomValues;
using testing::ToDoubles;

struct Case {
  Shape input;
  ShortcutPadAttrs attrs;
};

ref::ShortcutPadDims DimsOf(const Shape& in, const Shape& out, const ShortcutPadAttrs& attrs) {
  return {in[0], in[1], in[2], in[3], out[1], out[2], out[3], attrs.stride,
          ShortcutPadBefore(in[1], attrs)};
}

const std::vector<Case> kCases = {
    {Shape{2, 16, 32, 32}, {32, 2}},  // ResNet stage 1 -> 2
    {Shape{1, 3, 7, 5}, {8, 2}},      // odd sizes, uneven padding (2 before, 3 after)
    {Shape{3, 4, 6, 6}, {4, 1}},      // identity
    {Shape{2, 2, 5, 9}, {6, 3}},      // stride 3, non-square
};

// The kernel copies values: it must equal the reference exactly. dx is pre-filled too: the
// strided backward clears it before scattering.
TEST(ShortcutPadTest, KernelMatchesReference) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.input.ToString());
    absl::StatusOr<std::unique_ptr<cpu::ShortcutPadCpu>> kernel =
        cpu::ShortcutPadCpu::Create(c.input, c.attrs);
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    const Shape out = (*kernel)->output_shape();
    const ref::ShortcutPadDims dims = DimsOf(c.input, out, c.attrs);
    Tensor x = F32Tensor(c.input, RandomValues(c.input.num_elements(), 1));
    Tensor dy = F32Tensor(out, RandomValues(out.num_elements(), 2));
    Tensor y = testing::ZerosF32(out), dx = testing::ZerosF32(c.input);
    y.Fill(9), dx.Fill(9);  // the kernel must write every element, zeros included
    ASSERT_TRUE((*kernel)->Forward(x, y).ok());
    ASSERT_TRUE((*kernel)->Backward(dy, dx).ok());
    std::vector<double> y_ref(out.num_elements()), dx_ref(c.input.num_elements());
    ref::ShortcutPadForward<double>(dims, ToDoubles(x), y_ref);
    ref::ShortcutPadBackward<double>(dims, ToDoubles(dy), dx_ref);
    EXPECT_TRUE(AllClose(ToDoubles(y), y_ref, 0, 0));
    EXPECT_TRUE(AllClose(ToDoubles(dx), dx_ref, 0, 0));
  }
}

// x, y, dy and dx in nChw16c, then in nChw8c: the kernel copies values, so exactly the
// reference's (which are the plain kernel's). In nChw16c padding by 8 splits the output's
// channel blocks; by 16 keeps them whole (the stride-1 backward is then one copy per image). In
// nChw8c padding by 8 keeps them whole too; the 8-channel cases (nChw8c only) pad by 4 to split
// them.
TEST(ShortcutPadTest, BlockedLayoutMatchesReference) {
  const std::vector<Case> cases = {
      {Shape{3, 16, 9, 7}, {32, 2}},  // ResNet stage 1 -> 2 at odd sizes: 8 before, 8 after
      {Shape{1, 32, 7, 5}, {64, 2}},  // stage 2 -> 3: 16 before, 16 after
      {Shape{3, 16, 5, 3}, {48, 1}},  // stride 1, whole blocks before: the copy path
      {Shape{1, 16, 5, 7}, {32, 1}},  // stride 1, split blocks in nChw16c
      {Shape{1, 32, 6, 6}, {32, 3}},  // no padding, stride 3
      {Shape{3, 8, 9, 7}, {16, 2}},   // nChw8c only: 4 before, 4 after, split blocks
      {Shape{1, 8, 5, 7}, {16, 1}},   // nChw8c only: stride 1, split blocks
  };
  for (const cpu::ActivationLayout blocked_layout :
       {cpu::ActivationLayout::kBlocked16, cpu::ActivationLayout::kBlocked8}) {
    SCOPED_TRACE(cpu::LayoutName(blocked_layout));
    uint64_t seed = 50;
    for (const Case& c : cases) {
      if (c.input[1] % cpu::ChannelBlock(blocked_layout) != 0) continue;
      SCOPED_TRACE(c.input.ToString() + " -> " + std::to_string(c.attrs.out_channels) + " /" +
                   std::to_string(c.attrs.stride));
      absl::StatusOr<std::unique_ptr<cpu::ShortcutPadCpu>> kernel =
          cpu::ShortcutPadCpu::Create(c.input, c.attrs, blocked_layout);
      ASSERT_TRUE(kernel.ok()) << kernel.status();
      const Shape out = (*kernel)->output_shape();
      const ref::ShortcutPadDims dims = DimsOf(c.input, out, c.attrs);
      const Tensor x = F32Tensor(c.input, RandomValues(c.input.num_elements(), seed++));
      const Tensor dy = F32Tensor(out, RandomValues(out.num_elements(), seed++));
      Tensor y = testing::ZerosF32(out), dx = testing::ZerosF32(c.input);
      y.Fill(9), dx.Fill(9);  // every element must be written, zeros included
      ASSERT_TRUE((*kernel)->Forward(testing::ToLayout(x, blocked_layout), y).ok());
      ASSERT_TRUE((*kernel)->Backward(testing::ToLayout(dy, blocked_layout), dx).ok());
      std::vector<double> y_ref(out.num_elements()), dx_ref(c.input.num_elements());
      ref::ShortcutPadForward<double>(dims, ToDoubles(x), y_ref);
      ref::ShortcutPadBackward<double>(dims, ToDoubles(dy), dx_ref);
      EXPECT_TRUE(AllClose(testing::PlainValues(y, blocked_layout), y_ref, 0, 0));
      EXPECT_TRUE(AllClose(testing::PlainValues(dx, blocked_layout), dx_ref, 0, 0));
    }
  }
  constexpr cpu::ActivationLayout kBlocked16 = cpu::ActivationLayout::kBlocked16;
  constexpr cpu::ActivationLayout kBlocked8 = cpu::ActivationLayout::kBlocked8;
  EXPECT_TRUE(testing::FailsWith(
      cpu::ShortcutPadCpu::Create(Shape{2, 8, 4, 4}, {16, 2}, kBlocked16).status(),
      "shortcut_pad input: layout nChw16c needs channels a multiple of 16, got [2, 8, 4, 4]"));
  EXPECT_TRUE(testing::FailsWith(
      cpu::ShortcutPadCpu::Create(Shape{2, 16, 4, 4}, {24, 2}, kBlocked16).status(),
      "shortcut_pad output: layout nChw16c needs channels a multiple of 16, got [2, 24, 2, 2]"));
  EXPECT_TRUE(testing::FailsWith(
      cpu::ShortcutPadCpu::Create(Shape{2, 12, 4, 4}, {16, 2}, kBlocked8).status(),
      "shortcut_pad input: layout nChw8c needs channels a multiple of 8, got [2, 12, 4, 4]"));
  EXPECT_TRUE(testing::FailsWith(
      cpu::ShortcutPadCpu::Create(Shape{2, 16, 4, 4}, {20, 2}, kBlocked8).status(),
      "shortcut_pad output: layout nChw8c needs channels a multiple of 8, got [2, 20, 2, 2]"));
}

TEST(ShortcutPadTest, ShapeRuleErrors) {
  absl::StatusOr<Shape> fewer = ShortcutPadShape(Shape{2, 16, 8, 8}, {8, 2});
  ASSERT_FALSE(fewer.ok());
  EXPECT_NE(fewer.status().message().find("cannot pad 16 channels down to 8"), std::string::npos)
      << fewer.status();
  EXPECT_FALSE(ShortcutPadShape(Shape{2, 16, 8, 8}, {32, 0}).ok());
  EXPECT_FALSE(ShortcutPadShape(Shape{16, 8, 8}, {32, 2}).ok());
  EXPECT_EQ(*ShortcutPadShape(Shape{2, 16, 32, 32}, {32, 2}), (Shape{2, 32, 16, 16}));
}

}  // namespace
}  // namespace ald
