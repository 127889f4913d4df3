// BatchNorm2d: the shape rule's errors, the reference backward against finite differences, the
// running-statistic update against hand-computed numbers, and the oneDNN kernel (training,
// inference, backward, fused ReLU, blocked layout) against the reference.
#include "ops/batchnorm2d.h"

#include "ops/cpu/batchnorm2d.h"
#include "ops/ref/batchnorm2d.h"
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

// Every tensor of one batch-norm layer, as f32 tensors.
struct BatchNormTensors {
  Tensor x, gamma, beta, dy, y, mean, var, running_mean, running_var, dx, dgamma, dbeta;
};

BatchNormTensors MakeTensors(const Shape& input, uint64_t seed) {
  const Shape channel{input[1]};
  const int64_t n = input.num_elements(), c = input[1];
  BatchNormTensors t;
  // Inputs with a per-tensor offset and spread, so that normalisation has work to do.
  t.x = F32Tensor(input, RandomValues(n, seed, -2.0, 3.0));
  t.gamma = F32Tensor(channel, RandomValues(c, seed + 1, 0.5, 1.5));
  t.beta = F32Tensor(channel, RandomValues(c, seed + 2));
  t.dy = F32Tensor(input, RandomValues(n, seed + 3));
  t.running_mean = F32Tensor(channel, RandomValues(c, seed + 4));
  t.running_var = F32Tensor(channel, RandomValues(c, seed + 5, 0.5, 2.0));
  t.y = ZerosF32(input), t.dx = ZerosF32(input);
  t.mean = ZerosF32(channel), t.var = ZerosF32(channel);
  t.dgamma = ZerosF32(channel), t.dbeta = ZerosF32(channel);
  return t;
}

std::unique_ptr<cpu::BatchNorm2dCpu> MakeKernel(const Shape& input, const BatchNorm2dAttrs& attrs,
                                                const dnnl::memory::desc& layout = {}) {
  absl::StatusOr<std::unique_ptr<cpu::BatchNorm2dCpu>> kernel =
      cpu::BatchNorm2dCpu::Create(input, attrs, layout);
  EXPECT_TRUE(kernel.ok()) << kernel.status();
  return kernel.ok() ? *std::move(kernel) : nullptr;
}

// Runs training forward and backward on the kernel, in place in `t`.
void RunTraining(cpu::BatchNorm2dCpu& kernel, BatchNormTensors& t) {
  absl::Status status = kernel.ForwardTraining(t.x, t.gamma, t.beta, t.y, t.mean, t.var,
                                               t.running_mean, t.running_var);
  ASSERT_TRUE(status.ok()) << status;
  status = kernel.Backward(t.x, t.gamma, t.mean, t.var, t.dy, t.dx, t.dgamma, t.dbeta);
  ASSERT_TRUE(status.ok()) << status;
}

// Tolerances: normalised outputs are O(1) and statistics are float sums over M = N*H*W values,
// so errors grow with M: atol 1e-6 * M + 1e-5, rtol 1e-4. The backward subtracts sums of that
// size from dy, hence the same form.
double Atol(int64_t per_channel) { return 1e-6 * static_cast<double>(per_channel) + 1e-5; }
constexpr double kRtol = 1e-4;

// The kernel's training pass (optionally fused with ReLU) against the reference, which for the
// fused form is batch norm, then relu, and backward through both.
void ExpectTrainingMatchesReference(const Shape& input, const BatchNorm2dAttrs& attrs,
                                    uint64_t seed) {
  SCOPED_TRACE(input.ToString() + (attrs.fuse_relu ? " fused relu" : ""));
  std::unique_ptr<cpu::BatchNorm2dCpu> kernel = MakeKernel(input, attrs);
  ASSERT_NE(kernel, nullptr);
  BatchNormTensors t = MakeTensors(input, seed);
  const std::vector<double> running_mean0 = ToDoubles(t.running_mean);
  const std::vector<double> running_var0 = ToDoubles(t.running_var);
  RunTraining(*kernel, t);

  const ref::BatchNorm2dDims d = RefDims(kernel->shapes());
  const std::vector<double> x = ToDoubles(t.x), gamma = ToDoubles(t.gamma), beta = ToDoubles(t.beta);
  std::vector<double> y(x.size()), mean(d.channels), var(d.channels), dy = ToDoubles(t.dy);
  ref::BatchNorm2dForwardTraining<double>(d, x, gamma, beta, attrs.eps, y, mean, var);
  if (attrs.fuse_relu) {
    ref::ReluForward<double>(std::vector<double>(y), y);
    ref::ReluBackward<double>(y, std::vector<double>(dy), dy);
  }
  std::vector<double> dx(x.size()), dgamma(d.channels), dbeta(d.channels);
  ref::BatchNorm2dBackward<double>(d, x, gamma, mean, var, dy, attrs.eps, dx, dgamma, dbeta);
  const double atol = Atol(d.per_channel());
  EXPECT_TRUE(AllClose(ToDoubles(t.y), y, atol, kRtol)) << "y";
  EXPECT_TRUE(AllClose(ToDoubles(t.mean), mean, atol, kRtol)) << "mean";
  EXPECT_TRUE(AllClose(ToDoubles(t.var), var, atol, kRtol)) << "var";
  EXPECT_TRUE(AllClose(ToDoubles(t.dx), dx, atol, kRtol)) << "dx";
  EXPECT_TRUE(AllClose(ToDoubles(t.dgamma), dgamma, atol, kRtol)) << "dgamma";
  EXPECT_TRUE(AllClose(ToDoubles(t.dbeta), dbeta, atol, kRtol)) << "dbeta";
  // Running statistics: PyTorch's update with the unbiased variance.
  const double m = attrs.momentum, count = static_cast<double>(d.per_channel());
  std::vector<double> running_mean(d.channels), running_var(d.channels);
  for (int64_t c = 0; c < d.channels; ++c) {
    running_mean[c] = (1 - m) * running_mean0[c] + m * mean[c];
    running_var[c] = (1 - m) * running_var0[c] + m * var[c] * count / (count - 1);
  }
  EXPECT_TRUE(AllClose(ToDoubles(t.running_mean), running_mean, atol, kRtol)) << "running mean";
  EXPECT_TRUE(AllClose(ToDoubles(t.running_var), running_var, atol, kRtol)) << "running var";
}

const std::vector<Shape> kShapes = {Shape{1, 3, 4, 5}, Shape{2, 5, 7, 3}, Shape{4, 16, 8, 8},
                                    Shape{3, 32, 5, 5}, Shape{8, 64, 2, 2}};

TEST(BatchNorm2dTest, TrainingMatchesReference) {
  uint64_t seed = 30;
  for (const Shape& shape : kShapes) ExpectTrainingMatchesReference(shape, {}, seed += 10);
}

TEST(BatchNorm2dTest, FusedReluMatchesBatchNormThenRelu) {
  BatchNorm2dAttrs attrs;
  attrs.fuse_relu = true;
  attrs.momentum = 0.25f;
  uint64_t seed = 300;
  for (const Shape& shape : kShapes) ExpectTrainingMatchesReference(shape, attrs, seed += 10);
}

TEST(BatchNorm2dTest, InferenceUsesRunningStatistics) {
  for (bool fuse_relu : {false, true}) {
    BatchNorm2dAttrs attrs;
    attrs.fuse_relu = fuse_relu;
    const Shape input{3, 16, 5, 7};
    std::unique_ptr<cpu::BatchNorm2dCpu> kernel = MakeKernel(input, attrs);
    ASSERT_NE(kernel, nullptr);
    BatchNormTensors t = MakeTensors(input, 7);
    ASSERT_TRUE(
        kernel->ForwardInference(t.x, t.gamma, t.beta, t.running_mean, t.running_var, t.y).ok());
    const ref::BatchNorm2dDims d = RefDims(kernel->shapes());
    std::vector<double> y(input.num_elements());
    ref::BatchNorm2dNormalize<double>(d, ToDoubles(t.x), ToDoubles(t.gamma), ToDoubles(t.beta),
                                      ToDoubles(t.running_mean), ToDoubles(t.running_var),
                                      attrs.eps, y);
    if (fuse_relu) ref::ReluForward<double>(std::vector<double>(y), y);
    // No reduction here: a few float operations per element.
    EXPECT_TRUE(AllClose(ToDoubles(t.y), y, 1e-5, 1e-5));
  }
}

// Hand-computed: channel 0 holds {1, 2, 3, 6} (N = 2, W = 2): mean 3, biased variance
// (4 + 1 + 0 + 9) / 4 = 3.5, unbiased 14 / 3. Channel 1 holds {0, 0, 0, 4}: mean 1, biased
// variance (1 + 1 + 1 + 9) / 4 = 3, unbiased 4. From running mean 0 and variance 1 with
// momentum 0.1: means 0.3 and 0.1, variances 0.9 + 0.1 * 14/3 and 0.9 + 0.1 * 4.
TEST(BatchNorm2dTest, RunningStatisticsFollowPyTorch) {
  const Shape input{2, 2, 1, 2};
  std::unique_ptr<cpu::BatchNorm2dCpu> kernel = MakeKernel(input, {});
  ASSERT_NE(kernel, nullptr);
  BatchNormTensors t = MakeTensors(input, 1);
  t.x = F32Tensor(input, std::vector<double>{1, 2, 0, 0, 3, 6, 0, 4});  // n-major: [n][c][w]
  t.running_mean = ZerosF32(Shape{2});
  t.running_var = F32Tensor(Shape{2}, std::vector<double>{1, 1});
  ASSERT_TRUE(kernel->ForwardTraining(t.x, t.gamma, t.beta, t.y, t.mean, t.var, t.running_mean,
                                      t.running_var).ok());
  // Float arithmetic on small integers: exact to a few ulps.
  EXPECT_TRUE(AllClose(ToDoubles(t.mean), std::vector<double>{3, 1}, 1e-6, 0));
  EXPECT_TRUE(AllClose(ToDoubles(t.var), std::vector<double>{3.5, 3}, 1e-6, 0));
  EXPECT_TRUE(AllClose(ToDoubles(t.running_mean), std::vector<double>{0.3, 0.1}, 1e-6, 0));
  EXPECT_TRUE(AllClose(ToDoubles(t.running_var),
                       std::vector<double>{0.9 + 0.1 * 14.0 / 3.0, 0.9 + 0.1 * 4.0}, 1e-6, 0));
}

// The primitives run in a channel-blocked layout, nChw16c and nChw8c (as after a conv that chose
// it), and the Tensor API bridges: results must equal the plain-layout kernel's.
TEST(BatchNorm2dTest, BlockedLayoutGivesThePlainResults) {
  const Shape input{2, 32, 6, 5};
  BatchNorm2dAttrs attrs;
  attrs.fuse_relu = true;
  for (const dnnl::memory::format_tag tag :
       {dnnl::memory::format_tag::nChw16c, dnnl::memory::format_tag::nChw8c}) {
    SCOPED_TRACE(tag == dnnl::memory::format_tag::nChw16c ? "nChw16c" : "nChw8c");
    const dnnl::memory::desc blocked(cpu::Dims(input), dnnl::memory::data_type::f32, tag);
    std::unique_ptr<cpu::BatchNorm2dCpu> plain_kernel = MakeKernel(input, attrs);
    std::unique_ptr<cpu::BatchNorm2dCpu> blocked_kernel = MakeKernel(input, attrs, blocked);
    ASSERT_NE(plain_kernel, nullptr);
    ASSERT_NE(blocked_kernel, nullptr);
    EXPECT_TRUE(blocked_kernel->data_layout() == blocked);
    BatchNormTensors plain = MakeTensors(input, 5), in_blocks = MakeTensors(input, 5);
    RunTraining(*plain_kernel, plain);
    RunTraining(*blocked_kernel, in_blocks);
    // Different vectorisation may reorder the sums: same tolerance as against the reference.
    const double atol = Atol(2 * 6 * 5);
    EXPECT_TRUE(AllClose(ToDoubles(in_blocks.y), ToDoubles(plain.y), atol, kRtol));
    EXPECT_TRUE(AllClose(ToDoubles(in_blocks.dx), ToDoubles(plain.dx), atol, kRtol));
    EXPECT_TRUE(AllClose(ToDoubles(in_blocks.dgamma), ToDoubles(plain.dgamma), atol, kRtol));
  }
}

// The tensors themselves in nChw16c and nChw8c (the ActivationLayout overload: no bridge),
// training with and without the fused ReLU and inference, against the plain kernel. The
// per-channel sums may be vectorised differently: same tolerance as against the reference.
TEST(BatchNorm2dTest, BlockedTensorsGiveThePlainResults) {
  for (const cpu::ActivationLayout blocked_layout :
       {cpu::ActivationLayout::kBlocked16, cpu::ActivationLayout::kBlocked8}) {
    SCOPED_TRACE(cpu::LayoutName(blocked_layout));
    uint64_t seed = 500;
    for (const Shape& input : {Shape{1, 16, 7, 5}, Shape{3, 32, 5, 3}}) {
      for (bool fuse_relu : {false, true}) {
        SCOPED_TRACE(input.ToString() + (fuse_relu ? " fused relu" : ""));
        BatchNorm2dAttrs attrs;
        attrs.fuse_relu = fuse_relu;
        std::unique_ptr<cpu::BatchNorm2dCpu> plain_kernel = MakeKernel(input, attrs);
        absl::StatusOr<std::unique_ptr<cpu::BatchNorm2dCpu>> blocked_kernel =
            cpu::BatchNorm2dCpu::Create(input, attrs, blocked_layout);
        ASSERT_NE(plain_kernel, nullptr);
        ASSERT_TRUE(blocked_kernel.ok()) << blocked_kernel.status();
        const dnnl::memory::desc blocked = cpu::ActivationDesc(input, blocked_layout);
        EXPECT_TRUE((*blocked_kernel)->data_layout() == blocked);
        EXPECT_TRUE((*blocked_kernel)->tensor_layout() == blocked);

        BatchNormTensors plain = MakeTensors(input, seed), in_blocks = MakeTensors(input, seed);
        seed += 10;
        in_blocks.x = testing::ToLayout(plain.x, blocked_layout);
        in_blocks.dy = testing::ToLayout(plain.dy, blocked_layout);
        RunTraining(*plain_kernel, plain);
        RunTraining(**blocked_kernel, in_blocks);
        const double atol = Atol(input.num_elements() / input[1]);
        EXPECT_TRUE(AllClose(testing::PlainValues(in_blocks.y, blocked_layout),
                             ToDoubles(plain.y), atol, kRtol)) << "y";
        EXPECT_TRUE(AllClose(testing::PlainValues(in_blocks.dx, blocked_layout),
                             ToDoubles(plain.dx), atol, kRtol)) << "dx";
        EXPECT_TRUE(AllClose(ToDoubles(in_blocks.mean), ToDoubles(plain.mean), atol, kRtol));
        EXPECT_TRUE(AllClose(ToDoubles(in_blocks.var), ToDoubles(plain.var), atol, kRtol));
        EXPECT_TRUE(AllClose(ToDoubles(in_blocks.dgamma), ToDoubles(plain.dgamma), atol, kRtol));
        EXPECT_TRUE(AllClose(ToDoubles(in_blocks.dbeta), ToDoubles(plain.dbeta), atol, kRtol));

        // Inference from the (equal) running statistics: a few operations per element.
        ASSERT_TRUE(plain_kernel
                        ->ForwardInference(plain.x, plain.gamma, plain.beta, plain.running_mean,
                                           plain.running_var, plain.y)
                        .ok());
        ASSERT_TRUE((*blocked_kernel)
                        ->ForwardInference(in_blocks.x, in_blocks.gamma, in_blocks.beta,
                                           in_blocks.running_mean, in_blocks.running_var,
                                           in_blocks.y)
                        .ok());
        EXPECT_TRUE(AllClose(testing::PlainValues(in_blocks.y, blocked_layout),
                             ToDoubles(plain.y), atol, kRtol)) << "inference y";
      }
    }
  }
  EXPECT_TRUE(testing::FailsWith(
      cpu::BatchNorm2dCpu::Create(Shape{2, 24, 3, 3}, {}, cpu::ActivationLayout::kBlocked16)
          .status(),
      "batchnorm2d: layout nChw16c needs channels a multiple of 16, got [2, 24, 3, 3]"));
  EXPECT_TRUE(testing::FailsWith(
      cpu::BatchNorm2dCpu::Create(Shape{2, 12, 3, 3}, {}, cpu::ActivationLayout::kBlocked8)
          .status(),
      "batchnorm2d: layout nChw8c needs channels a multiple of 8, got [2, 12, 3, 3]"));
}

// The reference training backward against central differences of <dy, bn(x, gamma, beta)>.
// bn is smooth: central differences have O(eps²) truncation error, ~1e-10 here; tolerance 1e-6.
TEST(BatchNorm2dTest, ReferenceBackwardMatchesFiniteDifferences) {
  const ref::BatchNorm2dDims d{2, 3, 2, 3};
  const double eps = 1e-5;
  const int64_t n = d.batch * d.channels * d.height * d.width;
  const std::vector<std::vector<double>> inputs = {RandomValues(n, 1, -2, 3),
                                                   RandomValues(d.channels, 2, 0.5, 1.5),
                                                   RandomValues(d.channels, 3)};
  const std::vector<double> upstream = RandomValues(n, 4);
  std::vector<double> y(n), mean(d.channels), var(d.channels);
  ref::BatchNorm2dForwardTraining<double>(d, inputs[0], inputs[1], inputs[2], eps, y, mean, var);
  std::vector<double> dx(n), dgamma(d.channels), dbeta(d.channels);
  ref::BatchNorm2dBackward<double>(d, inputs[0], inputs[1], mean, var, upstream, eps, dx, dgamma,
                                   dbeta);
  auto f = [&](const std::vector<std::vector<double>>& in) {
    std::vector<double> out(n), m(d.channels), v(d.channels);
    ref::BatchNorm2dForwardTraining<double>(d, in[0], in[1], in[2], eps, out, m, v);
    return out;
  };
  EXPECT_TRUE(testing::CheckGradients(f, inputs, upstream, {dx, dgamma, dbeta}, {0, 1, 2}, 1e-6,
                                      1e-6, 1e-6));
}

void ExpectError(const absl::Status& status, const std::string& expected) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(testing::FailsWith(status, expected));
}

TEST(BatchNorm2dTest, BadCallsNameTheOpAndShapes) {
  ExpectError(InferBatchNorm2d(Shape{8, 16}, {}).status(),
              "batchnorm2d: input has rank 2, expected 4 (N, C, H, W) (input [8, 16])");
  ExpectError(InferBatchNorm2d(Shape{8, 0, 4, 4}, {}).status(),
              "batchnorm2d: every extent must be >= 1 (input [8, 0, 4, 4])");
  BatchNorm2dAttrs bad_eps;
  bad_eps.eps = 0;
  ExpectError(InferBatchNorm2d(Shape{8, 4, 4, 4}, bad_eps).status(), "eps must be > 0, got 0");
  BatchNorm2dAttrs bad_momentum;
  bad_momentum.momentum = 1.5f;
  ExpectError(cpu::BatchNorm2dCpu::Create(Shape{8, 4, 4, 4}, bad_momentum).status(),
              "batchnorm2d: momentum must be in [0, 1], got 1.5 (input [8, 4, 4, 4])");

  // One value per channel: inference is fine, training is not.
  const Shape single{1, 4, 1, 1};
  std::unique_ptr<cpu::BatchNorm2dCpu> kernel = MakeKernel(single, {});
  ASSERT_NE(kernel, nullptr);
  BatchNormTensors t = MakeTensors(single, 2);
  EXPECT_TRUE(
      kernel->ForwardInference(t.x, t.gamma, t.beta, t.running_mean, t.running_var, t.y).ok());
  ExpectError(kernel->ForwardTraining(t.x, t.gamma, t.beta, t.y, t.mean, t.var, t.running_mean,
                                      t.running_var),
              "batchnorm2d: training needs more than one value per channel (input [1, 4, 1, 1])");

  const Shape input{2, 4, 3, 3};
  kernel = MakeKernel(input, {});
  ASSERT_NE(kernel, nullptr);
  t = MakeTensors(input, 3);
  Tensor wrong = ZerosF32(Shape{5});
  ExpectError(kernel->ForwardTraining(t.x, t.gamma, wrong, t.y, t.mean, t.var, t.running_mean,
                                      t.running_var),
              "batchnorm2d forward training: beta is f32[5] cpu, expected f32[4] cpu");
  ExpectError(kernel->Backward(t.x, t.gamma, t.mean, t.var, t.dy, t.dx, t.dgamma, wrong),
              "batchnorm2d backward: dbeta is f32[5] cpu, expected f32[4] cpu");
  ExpectError(cpu::BatchNorm2dCpu::Create(input, {}, cpu::PlainDesc(Shape{2, 4, 3, 4})).status(),
              "batchnorm2d: the data layout's dims differ from the input [2, 4, 3, 3]");
}

}  // namespace
}  // namespace ald
