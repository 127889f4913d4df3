// Conv2dCuda against the reference loops (ops/ref/conv2d.h): forward with and without bias and
// fused ReLU, both backward passes, in fp32 and in bf16, and the errors for bad shapes and short
// workspaces.
#include "ops/cuda/conv2d.h"

#include <span>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/error_testing.h"
#include "ops/ref/conv2d.h"
#include "ops/ref/relu.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

// fp32 sums of up to C*R*S = 72 products of values in [-1, 1]: FMA-math algorithms (including
// Winograd/FFT variants the heuristic may pick) stay well inside these bounds; TF32 would not.
constexpr double kAtol = 2e-4, kRtol = 1e-4;

struct Case {
  Shape input, weight;
  Conv2dAttrs attrs;
};

std::vector<Case> Cases() {
  Conv2dAttrs same;  // 3x3, stride 1, pad 1, bias
  same.padding = {1, 1};
  Conv2dAttrs strided_relu;
  strided_relu.stride = {2, 2};
  strided_relu.bias = false;
  strided_relu.fuse_relu = true;
  Conv2dAttrs pointwise;  // the ResNet projection shape: 1x1, stride 2
  pointwise.stride = {2, 2};
  pointwise.fuse_relu = true;
  Conv2dAttrs asymmetric;
  asymmetric.stride = {1, 2};
  asymmetric.padding = {2, 0};
  return {{{2, 3, 7, 7}, {4, 3, 3, 3}, same},
          {{2, 8, 9, 9}, {5, 8, 3, 3}, strided_relu},
          {{3, 4, 8, 8}, {6, 4, 1, 1}, pointwise},
          {{1, 2, 5, 6}, {3, 2, 3, 2}, asymmetric}};
}

// Tolerances of one dtype's passes: forward and backward-data, then the weight and bias
// gradients (which sum over N*H'*W' positions too).
struct Tolerance {
  double atol, rtol, gradient_atol, gradient_rtol;
};
// fp32: as above. bf16: the inputs are exact in bf16 and the sums are fp32, so the error is the
// output's one rounding to bf16 (relative 2^-9), with a margin; the bias gradient is fp32 sums of
// bf16 values.
constexpr Tolerance kF32Tolerance{kAtol, kRtol, 2 * kAtol, kRtol};
constexpr Tolerance kBf16Tolerance{1e-2, 4e-3, 1e-2, 4e-3};

// One case of either dtype against the double-precision reference, on inputs exact in T.
template <typename T>
void CheckAgainstReference(const CudaHandles& handles, const Case& c, uint64_t seed,
                           const Tolerance& tolerance) {
  constexpr bool kBf16 = std::is_same_v<T, BFloat16>;
  auto exact = [](const std::vector<double>& values) { return ExactIn<T>(values); };
  ALD_ASSERT_OK_AND_ASSIGN(auto op, Conv2dCuda::Create(handles, c.input, c.weight, c.attrs,
                                                       kBf16 ? DType::kBF16 : DType::kF32));
  const Conv2dShapes& s = op->shapes();
  const ref::Conv2dDims dims = RefDims(s, c.attrs);
  const auto x = exact(RandomValues(s.input.num_elements(), seed++));
  const auto w = exact(RandomValues(s.weight.num_elements(), seed++));
  const auto b = RoundedToFloat(RandomValues(s.output[1], seed++));
  const auto dy = exact(RandomValues(s.output.num_elements(), seed++));
  const std::vector<double> no_bias;

  std::vector<double> y_ref(s.output.num_elements());
  ref::Conv2dForward<double>(dims, x, w, c.attrs.bias ? b : no_bias, y_ref);
  // With fused ReLU the backward passes take the gradient through the ReLU.
  std::vector<double> dz_ref = dy;
  if (c.attrs.fuse_relu) {
    std::vector<double> relu(y_ref.size());
    ref::ReluForward<double>(y_ref, relu);
    y_ref = relu;
    ref::ReluBackward<double>(y_ref, dy, dz_ref);
  }
  std::vector<double> dx_ref(x.size()), dw_ref(w.size()), db_ref(b.size());
  ref::Conv2dBackwardData<double>(dims, dz_ref, w, dx_ref);
  ref::Conv2dBackwardWeights<double>(dims, x, dz_ref, dw_ref, db_ref);

  ALD_ASSERT_OK_AND_ASSIGN(LayerBuffers<T> d, MakeLayerBuffers<T>(x, w, b, dy));
  ALD_ASSERT_OK_AND_ASSIGN(
      auto workspace, DeviceBuffer<char>::Create(static_cast<int64_t>(op->workspace_bytes())));
  // bf16 passes read the weights' bf16 copy.
  const void* weights = d.w.data();
  if (kBf16) {
    ALD_ASSERT_OK(op->PrepareWeights(d.w.data(), d.w16.data()));
    weights = d.w16.data();
  }

  ALD_ASSERT_OK(op->Forward(d.x.data(), weights, d.b.data(), d.y.data(), workspace.data(),
                            workspace.bytes()));
  if (c.attrs.fuse_relu) {
    // In place, as the executor runs it: dy becomes the gradient w.r.t. the convolution.
    ALD_ASSERT_OK(op->FusedReluBackward(d.y.data(), d.dy.data(), d.dy.data()));
  }
  ALD_ASSERT_OK(op->BackwardData(d.dy.data(), weights, d.dx.data(), workspace.data(),
                                 workspace.bytes()));
  ALD_ASSERT_OK(op->BackwardWeights(d.x.data(), d.dy.data(), d.dw.data(), d.db.data(),
                                    workspace.data(), workspace.bytes()));
  ALD_ASSERT_OK(handles.Synchronize());

  ALD_ASSERT_OK_AND_ASSIGN(auto y, Download(d.y));
  ALD_ASSERT_OK_AND_ASSIGN(auto dx, Download(d.dx));
  ALD_ASSERT_OK_AND_ASSIGN(auto dw, Download(d.dw));
  const Tolerance& t = tolerance;
  EXPECT_TRUE(AllClose(y, y_ref, t.atol, t.rtol)) << "forward";
  EXPECT_TRUE(AllClose(dx, dx_ref, t.atol, t.rtol)) << "backward data";
  EXPECT_TRUE(AllClose(dw, dw_ref, t.gradient_atol, t.gradient_rtol)) << "backward weights";
  if (c.attrs.bias) {
    ALD_ASSERT_OK_AND_ASSIGN(auto db, Download(d.db));
    EXPECT_TRUE(AllClose(db, db_ref, 2 * kAtol, kRtol)) << "bias gradient";
  }
}

TEST(Conv2dCudaTest, ForwardAndBackwardMatchReference) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  uint64_t seed = 1;
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.input.ToString() + " " + c.weight.ToString() + " " + DescribeConv2d(c.attrs));
    CheckAgainstReference<float>(*handles, c, seed, kF32Tolerance);
    seed += 4;
  }
}

// --precision=bf16: the same cases on the tensor cores, from a bf16 copy of the fp32 weights,
// with fp32 weight and bias gradients.
TEST(Conv2dCudaTest, Bf16MatchesReferenceAtBf16Tolerance) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  uint64_t seed = 101;
  std::vector<Case> cases = Cases();
  Conv2dAttrs resnet;  // a ResNet-20 stage-1 layer, where the tensor-core kernels apply
  resnet.padding = {1, 1};
  resnet.bias = false;
  resnet.fuse_relu = true;
  cases.push_back({{8, 16, 16, 16}, {16, 16, 3, 3}, resnet});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input.ToString() + " " + c.weight.ToString() + " " + DescribeConv2d(c.attrs));
    CheckAgainstReference<BFloat16>(*handles, c, seed, kBf16Tolerance);
    seed += 4;
  }
}

TEST(Conv2dCudaTest, BackwardIsDeterministic) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  Conv2dAttrs attrs;
  attrs.padding = {1, 1};
  // A ResNet-20 stage-1 layer: large enough that atomics-based algorithms would be candidates.
  ALD_ASSERT_OK_AND_ASSIGN(auto op,
                           Conv2dCuda::Create(*handles, {32, 16, 32, 32}, {16, 16, 3, 3}, attrs));
  EXPECT_NE(op->backward_data_algorithm(), CUDNN_CONVOLUTION_BWD_DATA_ALGO_0);
  EXPECT_NE(op->backward_weights_algorithm(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0);
  EXPECT_NE(op->backward_weights_algorithm(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3);
  const Conv2dShapes& s = op->shapes();
  ALD_ASSERT_OK_AND_ASSIGN(auto x, Upload(RandomValues(s.input.num_elements(), 50)));
  ALD_ASSERT_OK_AND_ASSIGN(auto w, Upload(RandomValues(s.weight.num_elements(), 51)));
  ALD_ASSERT_OK_AND_ASSIGN(auto dy, Upload(RandomValues(s.output.num_elements(), 52)));
  ALD_ASSERT_OK_AND_ASSIGN(auto dx, DeviceBuffer<float>::Create(s.input.num_elements()));
  ALD_ASSERT_OK_AND_ASSIGN(auto dw, DeviceBuffer<float>::Create(s.weight.num_elements()));
  ALD_ASSERT_OK_AND_ASSIGN(auto db, DeviceBuffer<float>::Create(s.output[1]));
  ALD_ASSERT_OK_AND_ASSIGN(auto workspace,
                           DeviceBuffer<char>::Create(static_cast<int64_t>(op->workspace_bytes())));
  std::vector<std::vector<float>> runs;
  for (int run = 0; run < 2; ++run) {
    ALD_ASSERT_OK(
        op->BackwardData(dy.data(), w.data(), dx.data(), workspace.data(), workspace.bytes()));
    ALD_ASSERT_OK(op->BackwardWeights(x.data(), dy.data(), dw.data(), db.data(), workspace.data(),
                                      workspace.bytes()));
    ALD_ASSERT_OK_AND_ASSIGN(std::vector<float> dx_host, dx.ToHost());
    ALD_ASSERT_OK_AND_ASSIGN(std::vector<float> dw_host, dw.ToHost());
    dx_host.insert(dx_host.end(), dw_host.begin(), dw_host.end());
    runs.push_back(std::move(dx_host));
  }
  EXPECT_EQ(runs[0], runs[1]);
}

TEST(Conv2dCudaTest, RejectsBadShapesWithTheCpuMessages) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  Conv2dAttrs attrs;
  EXPECT_TRUE(
      FailsWith(Conv2dCuda::Create(*handles, {8, 32, 16, 16}, {16, 16, 3, 3}, attrs).status(),
                "conv2d: input has 32 channels, weight expects 16"));
  EXPECT_TRUE(
      FailsWith(Conv2dCuda::Create(*handles, {8, 3, 16}, {16, 3, 3, 3}, attrs).status(), "conv2d"));
  attrs.stride = {0, 1};
  EXPECT_TRUE(FailsWith(Conv2dCuda::Create(*handles, {8, 3, 16, 16}, {16, 3, 3, 3}, attrs).status(),
                        "conv2d"));
}

TEST(Conv2dCudaTest, ShortWorkspaceIsAnError) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  Conv2dAttrs attrs;
  attrs.padding = {1, 1};
  ALD_ASSERT_OK_AND_ASSIGN(auto op,
                           Conv2dCuda::Create(*handles, {4, 16, 16, 16}, {16, 16, 3, 3}, attrs));
  if (op->forward_workspace_bytes() == 0) {
    GTEST_SKIP() << "the chosen forward algorithm needs no workspace";
  }
  EXPECT_TRUE(FailsWith(op->Forward(nullptr, nullptr, nullptr, nullptr, nullptr, 0),
                        "conv2d forward: workspace of 0 bytes"));
}

}  // namespace
}  // namespace ald::cuda
