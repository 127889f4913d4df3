// Conv2d: the shape rule's errors, the reference backward against finite differences, and the
// oneDNN kernel (forward, both backward passes, fused ReLU) against the reference.
#include "ops/conv2d.h"

#include <string_view>

#include "ops/cpu/conv2d.h"
#include "core/bfloat16.h"
#include "ops/cpu/bf16_support.h"
#include "ops/ref/conv2d.h"
#include "ops/ref/relu.h"
#include "ops/error_testing.h"
#include "ops/testing/layout_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::AllClose;
using testing::F32Tensor;
using testing::RandomValues;
using testing::ToDoubles;
using testing::ZerosF32;
using cpu::ActivationLayout;

struct Conv2dCase {
  Shape input, weight;
  Conv2dAttrs attrs;
  // The kernel's activation layouts: x and dx, y and dy.
  ActivationLayout input_layout = ActivationLayout::kPlain;
  ActivationLayout output_layout = ActivationLayout::kPlain;
};

Conv2dAttrs Attrs(int64_t stride, int64_t padding, bool bias, bool fuse_relu = false) {
  Conv2dAttrs attrs;
  attrs.stride = {stride, stride};
  attrs.padding = {padding, padding};
  attrs.bias = bias;
  attrs.fuse_relu = fuse_relu;
  return attrs;
}

std::vector<Conv2dCase> KernelCases() {
  Conv2dAttrs non_square = Attrs(1, 0, true);
  non_square.stride = {2, 1};
  non_square.padding = {0, 2};
  return {
      {Shape{1, 3, 8, 8}, Shape{4, 3, 3, 3}, Attrs(1, 1, true)},        // batch 1
      {Shape{2, 5, 7, 9}, Shape{6, 5, 3, 3}, Attrs(1, 0, false)},       // odd sizes, no bias
      {Shape{3, 16, 9, 9}, Shape{32, 16, 3, 3}, Attrs(2, 1, true)},     // stride 2 with padding
      {Shape{2, 4, 11, 6}, Shape{5, 4, 3, 2}, non_square},              // non-square everything
      {Shape{4, 16, 8, 8}, Shape{16, 16, 1, 1}, Attrs(1, 0, true)},     // 1x1
      {Shape{2, 32, 16, 16}, Shape{64, 32, 3, 3}, Attrs(2, 1, false)},  // a ResNet downsample
  };
}

// Everything one case computes, kernel and reference side by side.
struct Conv2dRun {
  Conv2dShapes shapes;
  ref::Conv2dDims dims;
  std::vector<double> x, w, b, dy;                  // float-rounded inputs
  std::vector<double> y_ref, dx_ref, dw_ref, db_ref;  // double reference on them
  Tensor y, dx, dw, db;                             // kernel results, in plain layout
};

// Runs kernel and reference on the same inputs; without fuse_relu, dy is the gradient of the
// convolution's output; with it, of relu(conv) (the kernel then goes through FusedReluBackward).
// The kernel's activations are reordered into the case's layouts and its results back.
Conv2dRun RunBoth(const Conv2dCase& c, uint64_t seed) {
  Conv2dRun run;
  absl::StatusOr<Conv2dShapes> shapes = InferConv2d(c.input, c.weight, c.attrs);
  EXPECT_TRUE(shapes.ok()) << shapes.status();
  run.shapes = *shapes;
  run.dims = RefDims(run.shapes, c.attrs);
  const Shape& out = run.shapes.output;
  Tensor x = F32Tensor(c.input, RandomValues(c.input.num_elements(), seed));
  Tensor w = F32Tensor(c.weight, RandomValues(c.weight.num_elements(), seed + 1));
  Tensor b = F32Tensor(run.shapes.bias, RandomValues(run.shapes.bias.num_elements(), seed + 2));
  Tensor dy = F32Tensor(out, RandomValues(out.num_elements(), seed + 3));
  run.x = ToDoubles(x), run.w = ToDoubles(w), run.dy = ToDoubles(dy);
  if (c.attrs.bias) run.b = ToDoubles(b);

  Tensor y = ZerosF32(out), dx = ZerosF32(c.input);
  run.dw = ZerosF32(c.weight), run.db = ZerosF32(run.shapes.bias);
  absl::StatusOr<std::unique_ptr<cpu::Conv2dCpu>> kernel =
      cpu::Conv2dCpu::Create(c.input, c.weight, c.attrs, c.input_layout, c.output_layout);
  EXPECT_TRUE(kernel.ok()) << kernel.status();
  if (!kernel.ok()) return run;
  const Tensor x_in = testing::ToLayout(x, c.input_layout);
  EXPECT_TRUE((*kernel)->Forward(x_in, w, b, y).ok());
  Tensor dconv = testing::ToLayout(dy, c.output_layout);
  if (c.attrs.fuse_relu) {
    Tensor dy_out = dconv;
    dconv = ZerosF32(out);
    EXPECT_TRUE((*kernel)->FusedReluBackward(y, dy_out, dconv).ok());
  }
  EXPECT_TRUE((*kernel)->BackwardData(dconv, w, dx).ok());
  EXPECT_TRUE((*kernel)->BackwardWeights(x_in, dconv, run.dw, run.db).ok());
  run.y = testing::FromLayout(y, c.output_layout);
  run.dx = testing::FromLayout(dx, c.input_layout);

  // The reference of the fused form is the unfused composition: conv, then relu.
  run.y_ref.resize(out.num_elements());
  ref::Conv2dForward<double>(run.dims, run.x, run.w, run.b, run.y_ref);
  std::vector<double> dconv_ref = run.dy;
  if (c.attrs.fuse_relu) {
    ref::ReluForward<double>(std::vector<double>(run.y_ref), run.y_ref);
    ref::ReluBackward<double>(run.y_ref, run.dy, dconv_ref);
  }
  run.dx_ref.resize(c.input.num_elements());
  run.dw_ref.resize(c.weight.num_elements());
  run.db_ref.resize(c.attrs.bias ? run.shapes.bias.num_elements() : 0);
  ref::Conv2dBackwardData<double>(run.dims, dconv_ref, run.w, run.dx_ref);
  ref::Conv2dBackwardWeights<double>(run.dims, run.x, dconv_ref, run.dw_ref, run.db_ref);
  return run;
}

// Tolerances: the float kernel sums `length` products of values in [-1, 1] in an order of its
// own (blocked, vectorised); the rounding error grows at worst linearly with the length, so
// atol = 1e-6 * length (about 16 float ulps of 1 per term) plus rtol 1e-4 for large results.
constexpr double kRtol = 1e-4;
double Atol(int64_t length) { return 1e-6 * static_cast<double>(length); }

void ExpectKernelMatchesReference(const Conv2dCase& c, const Conv2dRun& run) {
  const ref::Conv2dDims& d = run.dims;
  EXPECT_TRUE(AllClose(ToDoubles(run.y), run.y_ref,
                       Atol(d.in_channels * d.kernel_h * d.kernel_w), kRtol)) << "forward";
  EXPECT_TRUE(AllClose(ToDoubles(run.dx), run.dx_ref,
                       Atol(d.out_channels * d.kernel_h * d.kernel_w), kRtol)) << "backward data";
  const int64_t per_weight = d.batch * d.out_h() * d.out_w();
  EXPECT_TRUE(AllClose(ToDoubles(run.dw), run.dw_ref, Atol(per_weight), kRtol)) << "dw";
  if (c.attrs.bias) {
    EXPECT_TRUE(AllClose(ToDoubles(run.db), run.db_ref, Atol(per_weight), kRtol)) << "db";
  }
}

TEST(Conv2dTest, KernelMatchesReference) {
  uint64_t seed = 10;
  for (const Conv2dCase& c : KernelCases()) {
    SCOPED_TRACE(c.input.ToString() + " * " + c.weight.ToString() + " " +
                 DescribeConv2d(c.attrs) + (c.attrs.bias ? " bias" : ""));
    ExpectKernelMatchesReference(c, RunBoth(c, seed += 10));
  }
}

// The fused conv+relu must give what conv followed by relu gives, forward and backward.
TEST(Conv2dTest, FusedReluMatchesConvThenRelu) {
  const std::vector<Conv2dCase> cases = {
      {Shape{2, 8, 9, 9}, Shape{16, 8, 3, 3}, Attrs(1, 1, true, true)},
      {Shape{3, 16, 10, 7}, Shape{8, 16, 3, 3}, Attrs(2, 1, false, true)},
  };
  uint64_t seed = 100;
  for (const Conv2dCase& c : cases) {
    SCOPED_TRACE(c.input.ToString());
    const Conv2dRun run = RunBoth(c, seed += 10);
    ExpectKernelMatchesReference(c, run);
    // The relu did something: some outputs were clamped, some passed.
    const std::vector<double> y = ToDoubles(run.y);
    EXPECT_GT(std::count(y.begin(), y.end(), 0.0), 0);
    EXPECT_GT(std::count_if(y.begin(), y.end(), [](double v) { return v > 0; }), 0);
  }
}

// Activations in nChw16c, then in nChw8c (and the stem's plain 3-channel input to blocked
// output, and back to plain before a layer whose channels are not a multiple of the block): each
// primitive runs on exactly the given layouts, so nothing is reordered but the weights (and, where
// the given layouts have only oneDNN's reference loops for a pass, that pass's activations), and
// the results equal the plain kernel's to float rounding (oneDNN picks other implementations, which
// sum in other orders; both are also held to the reference's tolerance).
TEST(Conv2dTest, BlockedLayoutsGiveThePlainResults) {
  constexpr ActivationLayout kPlain = ActivationLayout::kPlain;
  for (const ActivationLayout blocked :
       {ActivationLayout::kBlocked16, ActivationLayout::kBlocked8}) {
    SCOPED_TRACE(cpu::LayoutName(blocked));
    const std::vector<Conv2dCase> cases = {
        {Shape{1, 16, 9, 7}, Shape{16, 16, 3, 3}, Attrs(1, 1, true, true), blocked, blocked},
        {Shape{3, 16, 9, 7}, Shape{32, 16, 3, 3}, Attrs(2, 1, false), blocked, blocked},
        {Shape{3, 32, 7, 7}, Shape{32, 32, 1, 1}, Attrs(2, 0, true), blocked, blocked},
        {Shape{3, 3, 9, 9}, Shape{16, 3, 3, 3}, Attrs(1, 1, false, true), kPlain, blocked},  // stem
        {Shape{1, 3, 7, 9}, Shape{32, 3, 3, 3}, Attrs(2, 1, true), kPlain, blocked},
        {Shape{1, 16, 5, 5}, Shape{10, 16, 3, 3}, Attrs(1, 1, true), blocked, kPlain},
    };
    uint64_t seed = 500;
    for (Conv2dCase c : cases) {
      SCOPED_TRACE(c.input.ToString() + " * " + c.weight.ToString() + " " +
                   DescribeConv2d(c.attrs) + " " + cpu::LayoutName(c.input_layout) + " -> " +
                   cpu::LayoutName(c.output_layout));
      absl::StatusOr<std::unique_ptr<cpu::Conv2dCpu>> kernel = cpu::Conv2dCpu::Create(
          c.input, c.weight, c.attrs, c.input_layout, c.output_layout);
      ASSERT_TRUE(kernel.ok()) << kernel.status();
      // Exactly the given layouts in every pass, so the Tensor API reorders no activation,
      // unless those layouts have only oneDNN's reference kernel for the pass (a stem into a
      // block, a block into plain, on some CPUs): then it runs another kernel, bridged.
      const cpu::Conv2dCpu::Passes& passes = (*kernel)->passes();
      const dnnl::memory::desc src = cpu::ActivationDesc(c.input, c.input_layout);
      const dnnl::memory::desc dst =
          cpu::ActivationDesc((*kernel)->shapes().output, c.output_layout);
      const auto exact_or_not_reference = [&](const auto& pd, const dnnl::memory::desc& pass_src,
                                              const dnnl::memory::desc& pass_dst) {
        return (pass_src == src && pass_dst == dst) || !cpu::IsReferenceKernel(pd);
      };
      EXPECT_TRUE(exact_or_not_reference(passes.forward_pd(), passes.forward_pd().src_desc(),
                                         passes.forward_pd().dst_desc()))
          << passes.forward_pd().impl_info_str();
      EXPECT_TRUE(exact_or_not_reference(passes.backward_data_pd(),
                                         passes.backward_data_pd().diff_src_desc(),
                                         passes.backward_data_pd().diff_dst_desc()))
          << passes.backward_data_pd().impl_info_str();
      EXPECT_TRUE(exact_or_not_reference(passes.backward_weights_pd(),
                                         passes.backward_weights_pd().src_desc(),
                                         passes.backward_weights_pd().diff_dst_desc()))
          << passes.backward_weights_pd().impl_info_str();

      const Conv2dRun laid_out = RunBoth(c, seed);
      ExpectKernelMatchesReference(c, laid_out);
      c.input_layout = c.output_layout = kPlain;
      const Conv2dRun plain = RunBoth(c, seed);
      seed += 10;
      const ref::Conv2dDims& d = plain.dims;
      const int64_t per_weight = d.batch * d.out_h() * d.out_w();
      EXPECT_TRUE(AllClose(ToDoubles(laid_out.y), ToDoubles(plain.y),
                           Atol(d.in_channels * d.kernel_h * d.kernel_w), kRtol)) << "y";
      EXPECT_TRUE(AllClose(ToDoubles(laid_out.dx), ToDoubles(plain.dx),
                           Atol(d.out_channels * d.kernel_h * d.kernel_w), kRtol)) << "dx";
      EXPECT_TRUE(AllClose(ToDoubles(laid_out.dw), ToDoubles(plain.dw), Atol(per_weight), kRtol))
          << "dw";
      EXPECT_TRUE(AllClose(ToDoubles(laid_out.db), ToDoubles(plain.db), Atol(per_weight), kRtol))
          << "db";
    }
  }
}

// Few input channels between plain activations (LeNet-5's 6 -> 16): the forward writes a
// blocked output and both backward passes run in NHWC, each on a direct kernel instead of
// im2col + GEMM (the only kernel oneDNN has for plain NCHW here), bridged to the plain tensors;
// the results hold to the reference like any other layer's.
TEST(Conv2dTest, FewPlainChannelsRunOnDirectKernels) {
  const std::vector<Conv2dCase> cases = {
      {Shape{4, 6, 14, 14}, Shape{16, 6, 5, 5}, Attrs(1, 0, true, true)},  // LeNet-5's conv2
      {Shape{3, 6, 9, 8}, Shape{16, 6, 3, 3}, Attrs(1, 1, false)},
  };
  auto direct = [](const char* impl) {
    const std::string_view name(impl);
    return !name.starts_with("ref") && name.find("gemm:jit") == std::string_view::npos;
  };
  uint64_t seed = 700;
  for (const Conv2dCase& c : cases) {
    SCOPED_TRACE(c.input.ToString() + " * " + c.weight.ToString() + " " +
                 DescribeConv2d(c.attrs));
    absl::StatusOr<std::unique_ptr<cpu::Conv2dCpu>> kernel =
        cpu::Conv2dCpu::Create(c.input, c.weight, c.attrs);
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    const cpu::Conv2dCpu::Passes& passes = (*kernel)->passes();
    EXPECT_TRUE(direct(passes.forward_pd().impl_info_str()))
        << passes.forward_pd().impl_info_str();
    EXPECT_TRUE(direct(passes.backward_data_pd().impl_info_str()))
        << passes.backward_data_pd().impl_info_str();
    EXPECT_TRUE(direct(passes.backward_weights_pd().impl_info_str()))
        << passes.backward_weights_pd().impl_info_str();
    const dnnl::memory::desc nhwc_src =
        cpu::ActivationDesc(c.input, ActivationLayout::kChannelsLast);
    EXPECT_FALSE(passes.forward_pd().dst_desc() ==
                 cpu::ActivationDesc((*kernel)->shapes().output, ActivationLayout::kPlain));
    EXPECT_TRUE(passes.backward_data_pd().diff_src_desc() == nhwc_src);
    EXPECT_TRUE(passes.backward_weights_pd().src_desc() == nhwc_src);
    ExpectKernelMatchesReference(c, RunBoth(c, seed += 10));
  }
}

Tensor Bf16Tensor(const Shape& shape, uint64_t seed) {
  Tensor tensor = *Tensor::Create(shape, DType::kBF16);
  const std::vector<double> values = RandomValues(shape.num_elements(), seed);
  for (int64_t i = 0; i < shape.num_elements(); ++i) {
    tensor.data<BFloat16>()[i] = BFloat16(static_cast<float>(values[i]));
  }
  return tensor;
}

// A bf16 channels-last layer with >= 128 input channels and <= 64 output pixels computes its
// weight and bias gradients as one matmul over an im2col copy (Im2colWeightGradCpu); they
// equal oneDNN's own bf16 backward-weights (same bf16 products, f32 sums in another order).
// Other layers, and f32, keep oneDNN's primitive.
TEST(Conv2dTest, Bf16WideSmallImageWeightGradMatchesOneDnn) {
  if (cpu::CpuBf16Capability().support == cpu::Bf16Support::kUnavailable) {
    GTEST_SKIP() << "oneDNN runs no bf16 on this CPU (" << cpu::CpuBf16Capability().isa << ")";
  }
  constexpr ActivationLayout kNhwc = ActivationLayout::kChannelsLast;
  const std::vector<Conv2dCase> cases = {
      {Shape{2, 128, 4, 4}, Shape{16, 128, 3, 3}, Attrs(1, 1, true), kNhwc, kNhwc},
      {Shape{3, 128, 7, 5}, Shape{8, 128, 3, 3}, Attrs(2, 1, false), kNhwc, kNhwc},
      {Shape{2, 256, 2, 2}, Shape{32, 256, 1, 1}, Attrs(1, 0, true), kNhwc, kNhwc},
  };
  uint64_t seed = 900;
  for (const Conv2dCase& c : cases) {
    SCOPED_TRACE(c.input.ToString() + " * " + c.weight.ToString() + " " + DescribeConv2d(c.attrs));
    absl::StatusOr<std::unique_ptr<cpu::Conv2dCpu>> kernel = cpu::Conv2dCpu::Create(
        c.input, c.weight, c.attrs, c.input_layout, c.output_layout, DType::kBF16);
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    ASSERT_TRUE((*kernel)->uses_im2col_weight_grad());
    const Conv2dShapes& shapes = (*kernel)->shapes();
    const Tensor x = Bf16Tensor(shapes.input, seed++), dy = Bf16Tensor(shapes.output, seed++);
    Tensor dw = ZerosF32(shapes.weight), db = ZerosF32(shapes.bias);
    Tensor dw_onednn = ZerosF32(shapes.weight), db_onednn = ZerosF32(shapes.bias);
    ASSERT_TRUE((*kernel)->BackwardWeights(x, dy, dw, db).ok());
    ASSERT_TRUE((*kernel)->passes().BackwardWeights(x, dy, dw_onednn, db_onednn).ok());
    const int64_t per_weight = shapes.output[0] * shapes.output[2] * shapes.output[3];
    EXPECT_TRUE(AllClose(ToDoubles(dw), ToDoubles(dw_onednn), Atol(per_weight), kRtol)) << "dw";
    if (c.attrs.bias) {
      EXPECT_TRUE(AllClose(ToDoubles(db), ToDoubles(db_onednn), Atol(per_weight), kRtol)) << "db";
    }
  }
  // Fewer channels, more pixels, f32 or another layout: oneDNN's primitive.
  const auto uses = [](const Shape& input, const Shape& weight, ActivationLayout layout,
                       DType dtype) {
    return (*cpu::Conv2dCpu::Create(input, weight, Attrs(1, 1, false), layout, layout, dtype))
        ->uses_im2col_weight_grad();
  };
  EXPECT_FALSE(uses(Shape{2, 64, 4, 4}, Shape{64, 64, 3, 3}, kNhwc, DType::kBF16));
  EXPECT_FALSE(uses(Shape{2, 128, 16, 16}, Shape{16, 128, 3, 3}, kNhwc, DType::kBF16));
  EXPECT_FALSE(uses(Shape{2, 128, 4, 4}, Shape{16, 128, 3, 3}, kNhwc, DType::kF32));
  EXPECT_FALSE(uses(Shape{2, 128, 4, 4}, Shape{16, 128, 3, 3}, ActivationLayout::kBlocked16,
                    DType::kBF16));
  EXPECT_FALSE(uses(Shape{2, 128, 4, 4}, Shape{16, 128, 3, 3}, ActivationLayout::kBlocked8,
                    DType::kBF16));
}

TEST(Conv2dTest, FusedReluBackwardNeedsAFusedKernel) {
  auto kernel = cpu::Conv2dCpu::Create(Shape{1, 1, 3, 3}, Shape{1, 1, 3, 3}, Attrs(1, 0, false));
  ASSERT_TRUE(kernel.ok());
  Tensor t = ZerosF32(Shape{1, 1, 1, 1});
  absl::Status status = (*kernel)->FusedReluBackward(t, t, t);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
}

// The reference backward in double against central differences of <dy, conv(x, w, b)>.
// The function is linear in each argument, so central differences are exact up to rounding:
// tolerance 1e-7 absolute on gradients of size ~10.
TEST(Conv2dTest, ReferenceBackwardMatchesFiniteDifferences) {
  Conv2dAttrs attrs = Attrs(2, 1, true);
  attrs.stride = {2, 1};
  const Conv2dCase c{Shape{2, 3, 5, 4}, Shape{2, 3, 3, 2}, attrs};
  absl::StatusOr<Conv2dShapes> shapes = InferConv2d(c.input, c.weight, c.attrs);
  ASSERT_TRUE(shapes.ok()) << shapes.status();
  const ref::Conv2dDims dims = RefDims(*shapes, c.attrs);
  const int64_t out_n = shapes->output.num_elements();
  const std::vector<std::vector<double>> inputs = {
      RandomValues(c.input.num_elements(), 1), RandomValues(c.weight.num_elements(), 2),
      RandomValues(shapes->bias.num_elements(), 3)};
  const std::vector<double> upstream = RandomValues(out_n, 4);
  std::vector<double> dx(inputs[0].size()), dw(inputs[1].size()), db(inputs[2].size());
  ref::Conv2dBackwardData<double>(dims, upstream, inputs[1], dx);
  ref::Conv2dBackwardWeights<double>(dims, inputs[0], upstream, dw, db);
  auto f = [&](const std::vector<std::vector<double>>& in) {
    std::vector<double> y(out_n);
    ref::Conv2dForward<double>(dims, in[0], in[1], in[2], y);
    return y;
  };
  EXPECT_TRUE(testing::CheckGradients(f, inputs, upstream, {dx, dw, db}, {0, 1, 2}, 1e-6, 1e-7,
                                      1e-7));
}

absl::Status InferStatus(const Shape& input, const Shape& weight, const Conv2dAttrs& attrs) {
  return InferConv2d(input, weight, attrs).status();
}

void ExpectError(const absl::Status& status, const std::string& expected) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(testing::FailsWith(status, expected));
}

TEST(Conv2dTest, ShapeRuleNamesTheOpAndShapes) {
  const Conv2dAttrs plain = Attrs(1, 0, true);
  ExpectError(InferStatus(Shape{8, 32, 16, 16}, Shape{16, 16, 3, 3}, plain),
              "conv2d: input has 32 channels, weight expects 16 (input [8, 32, 16, 16], weight "
              "[16, 16, 3, 3])");
  ExpectError(InferStatus(Shape{8, 32, 16}, Shape{16, 32, 3, 3}, plain),
              "conv2d: input has rank 3, expected 4 (N, C, H, W) (input [8, 32, 16]");
  ExpectError(InferStatus(Shape{8, 3, 4, 4}, Shape{3, 3}, plain), "weight has rank 2");
  ExpectError(InferStatus(Shape{0, 3, 4, 4}, Shape{4, 3, 3, 3}, plain),
              "every extent must be >= 1 (input [0, 3, 4, 4]");
  ExpectError(InferStatus(Shape{1, 3, 4, 4}, Shape{4, 3, 3, 3}, Attrs(0, 1, true)),
              "conv2d: stride must be >= 1, got stride 0x0 pad 1x1");
  ExpectError(InferStatus(Shape{1, 3, 4, 4}, Shape{4, 3, 3, 3}, Attrs(1, -1, true)),
              "conv2d: padding must be >= 0, got stride 1x1 pad -1x-1");
  ExpectError(InferStatus(Shape{1, 3, 4, 2}, Shape{4, 3, 3, 5}, Attrs(1, 1, true)),
              "conv2d: kernel 3x5 is larger than the padded input 6x4 (stride 1x1 pad 1x1) "
              "(input [1, 3, 4, 2], weight [4, 3, 3, 5])");
}

TEST(Conv2dTest, ShapeRuleComputesOutput) {
  // (32 + 2 - 3) / 2 + 1 = 16 (floor of 15.5 + 1); (7 + 0 - 1) / 1 + 1 = 7.
  Conv2dAttrs attrs = Attrs(2, 1, false);
  attrs.stride = {2, 1};
  attrs.padding = {1, 0};
  absl::StatusOr<Conv2dShapes> shapes = InferConv2d(Shape{5, 3, 32, 7}, Shape{16, 3, 3, 1}, attrs);
  ASSERT_TRUE(shapes.ok()) << shapes.status();
  EXPECT_EQ(shapes->output, (Shape{5, 16, 16, 7}));
  EXPECT_EQ(shapes->bias, (Shape{16}));
}

TEST(Conv2dTest, KernelRejectsBadShapesAndTensors) {
  ExpectError(cpu::Conv2dCpu::Create(Shape{8, 32, 16, 16}, Shape{16, 16, 3, 3}, Attrs(1, 1, true))
                  .status(),
              "conv2d: input has 32 channels, weight expects 16");
  auto kernel = cpu::Conv2dCpu::Create(Shape{2, 3, 5, 5}, Shape{4, 3, 3, 3}, Attrs(1, 1, true));
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  Tensor x = ZerosF32(Shape{2, 3, 5, 5}), w = ZerosF32(Shape{4, 3, 3, 3});
  Tensor b = ZerosF32(Shape{4}), y = ZerosF32(Shape{2, 4, 5, 5});
  Tensor wrong = ZerosF32(Shape{2, 4, 3, 3});
  ExpectError((*kernel)->Forward(x, w, b, wrong),
              "conv2d forward: y is f32[2, 4, 3, 3] cpu, expected f32[2, 4, 5, 5] cpu");
  Tensor undefined;
  ExpectError((*kernel)->Forward(x, w, undefined, y), "conv2d forward: b is undefined");
  ExpectError((*kernel)->BackwardWeights(x, y, wrong, b),
              "conv2d backward weights: dw is f32[2, 4, 3, 3] cpu, expected f32[4, 3, 3, 3]");
  // nChw16c and nChw8c only where the channels are whole blocks: the stem's input and a
  // 10-channel output.
  ExpectError(cpu::Conv2dCpu::Create(Shape{2, 3, 5, 5}, Shape{16, 3, 3, 3}, Attrs(1, 1, true),
                                     ActivationLayout::kBlocked16, ActivationLayout::kBlocked16)
                  .status(),
              "conv2d input: layout nChw16c needs channels a multiple of 16, got [2, 3, 5, 5]");
  ExpectError(cpu::Conv2dCpu::Create(Shape{2, 16, 5, 5}, Shape{10, 16, 3, 3}, Attrs(1, 1, true),
                                     ActivationLayout::kBlocked16, ActivationLayout::kBlocked16)
                  .status(),
              "conv2d output: layout nChw16c needs channels a multiple of 16, got [2, 10, 5, 5]");
  ExpectError(cpu::Conv2dCpu::Create(Shape{2, 3, 5, 5}, Shape{16, 3, 3, 3}, Attrs(1, 1, true),
                                     ActivationLayout::kBlocked8, ActivationLayout::kBlocked8)
                  .status(),
              "conv2d input: layout nChw8c needs channels a multiple of 8, got [2, 3, 5, 5]");
  ExpectError(cpu::Conv2dCpu::Create(Shape{2, 16, 5, 5}, Shape{10, 16, 3, 3}, Attrs(1, 1, true),
                                     ActivationLayout::kBlocked8, ActivationLayout::kBlocked8)
                  .status(),
              "conv2d output: layout nChw8c needs channels a multiple of 8, got [2, 10, 5, 5]");
}

}  // namespace
}  // namespace ald
