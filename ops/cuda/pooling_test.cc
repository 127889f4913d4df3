// Pool2dCuda (max, average with and without counted padding, global average) against the
// reference loops, forward and backward, and the CPU rules' shape errors.
#include "ops/cuda/pooling.h"

#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/error_testing.h"
#include "ops/ref/avgpool2d.h"
#include "ops/ref/global_avgpool.h"
#include "ops/ref/maxpool2d.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

constexpr double kAtol = 1e-5, kRtol = 1e-5;

ref::PoolGeometry Geometry(const Shape& x, const Pool2dWindow& w) {
  return ref::PoolGeometry{x[0],        x[1],        x[2],        x[3],         w.kernel[0],
                           w.kernel[1], w.stride[0], w.stride[1], w.padding[0], w.padding[1]};
}

// Runs forward and backward of `op` on x, dy and returns {y, dx}.
void RunForwardBackward(const CudaHandles& handles, const Pool2dCuda& op,
                        const std::vector<double>& x, const std::vector<double>& dy,
                        std::vector<double>& y, std::vector<double>& dx) {
  ALD_ASSERT_OK_AND_ASSIGN(auto x_dev, Upload(x));
  ALD_ASSERT_OK_AND_ASSIGN(auto dy_dev, Upload(dy));
  ALD_ASSERT_OK_AND_ASSIGN(auto y_dev,
                           DeviceBuffer<float>::Create(op.output_shape().num_elements()));
  ALD_ASSERT_OK_AND_ASSIGN(auto dx_dev,
                           DeviceBuffer<float>::Create(op.input_shape().num_elements()));
  ALD_ASSERT_OK(op.Forward(x_dev.data(), y_dev.data()));
  ALD_ASSERT_OK(op.Backward(x_dev.data(), y_dev.data(), dy_dev.data(), dx_dev.data()));
  ALD_ASSERT_OK(handles.Synchronize());
  ALD_ASSERT_OK_AND_ASSIGN(y, Download(y_dev));
  ALD_ASSERT_OK_AND_ASSIGN(dx, Download(dx_dev));
}

std::vector<Pool2dWindow> Windows() {
  Pool2dWindow two;  // 2x2/2, the VGG/LeNet pool
  Pool2dWindow three_padded;
  three_padded.kernel = {3, 3};
  three_padded.stride = {2, 2};
  three_padded.padding = {1, 1};  // ResNet-18's stem pool
  Pool2dWindow overlapping;
  overlapping.kernel = {3, 2};
  overlapping.stride = {1, 1};
  overlapping.padding = {1, 0};
  return {two, three_padded, overlapping};
}

TEST(Pool2dCudaTest, MaxPoolMatchesReference) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  const Shape input{2, 3, 7, 8};
  uint64_t seed = 200;
  for (const Pool2dWindow& window : Windows()) {
    SCOPED_TRACE(DescribeWindow(window));
    ALD_ASSERT_OK_AND_ASSIGN(auto op, Pool2dCuda::CreateMax(*handles, input, window));
    // Random continuous values: no ties, so the winner of every window is unique. All negative,
    // so that a padded position wrongly counted as 0 would win its window and show.
    const auto x = RoundedToFloat(RandomValues(input.num_elements(), seed++, -2.0, -0.5));
    const auto dy = RoundedToFloat(RandomValues(op->output_shape().num_elements(), seed++));
    const ref::PoolGeometry g = Geometry(input, window);
    std::vector<double> y_ref(dy.size()), dx_ref(x.size()), y, dx;
    ref::MaxPool2dForward<double>(g, x, y_ref);
    ref::MaxPool2dBackward<double>(g, x, dy, dx_ref);
    ASSERT_NO_FATAL_FAILURE(RunForwardBackward(*handles, *op, x, dy, y, dx));
    EXPECT_TRUE(AllClose(y, y_ref, 0, 0)) << "forward";
    EXPECT_TRUE(AllClose(dx, dx_ref, kAtol, kRtol)) << "backward";
  }
}

TEST(Pool2dCudaTest, AvgPoolMatchesReferenceWithBothPaddingConventions) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  const Shape input{2, 3, 7, 8};
  uint64_t seed = 300;
  for (const bool count_include_pad : {true, false}) {
    for (const Pool2dWindow& window : Windows()) {
      SCOPED_TRACE(DescribeWindow(window) + (count_include_pad ? " include pad" : " exclude pad"));
      AvgPool2dAttrs attrs{window, count_include_pad};
      ALD_ASSERT_OK_AND_ASSIGN(auto op, Pool2dCuda::CreateAvg(*handles, input, attrs));
      const auto x = RoundedToFloat(RandomValues(input.num_elements(), seed++));
      const auto dy = RoundedToFloat(RandomValues(op->output_shape().num_elements(), seed++));
      const ref::PoolGeometry g = Geometry(input, window);
      std::vector<double> y_ref(dy.size()), dx_ref(x.size()), y, dx;
      ref::AvgPool2dForward<double>(g, count_include_pad, x, y_ref);
      ref::AvgPool2dBackward<double>(g, count_include_pad, dy, dx_ref);
      ASSERT_NO_FATAL_FAILURE(RunForwardBackward(*handles, *op, x, dy, y, dx));
      EXPECT_TRUE(AllClose(y, y_ref, kAtol, kRtol)) << "forward";
      EXPECT_TRUE(AllClose(dx, dx_ref, kAtol, kRtol)) << "backward";
    }
  }
}

TEST(Pool2dCudaTest, GlobalAvgPoolMatchesReference) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  for (const Shape& input : {Shape{2, 3, 8, 8}, Shape{4, 64, 5, 7}, Shape{1, 2, 1, 1}}) {
    SCOPED_TRACE(input.ToString());
    ALD_ASSERT_OK_AND_ASSIGN(auto op, Pool2dCuda::CreateGlobalAvg(*handles, input));
    EXPECT_EQ(op->output_shape(), (Shape{input[0], input[1]}));
    const auto x = RoundedToFloat(RandomValues(input.num_elements(), 400));
    const auto dy = RoundedToFloat(RandomValues(input[0] * input[1], 401));
    const int64_t plane = input[2] * input[3];
    std::vector<double> y_ref(dy.size()), dx_ref(x.size()), y, dx;
    ref::GlobalAvgPoolForward<double>(plane, x, y_ref);
    ref::GlobalAvgPoolBackward<double>(plane, dy, dx_ref);
    ASSERT_NO_FATAL_FAILURE(RunForwardBackward(*handles, *op, x, dy, y, dx));
    EXPECT_TRUE(AllClose(y, y_ref, kAtol, kRtol)) << "forward";
    EXPECT_TRUE(AllClose(dx, dx_ref, kAtol, kRtol)) << "backward";
  }
}

TEST(Pool2dCudaTest, RejectsBadShapesWithTheCpuMessages) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  EXPECT_TRUE(FailsWith(Pool2dCuda::CreateMax(*handles, {2, 3, 8}, {}).status(), "maxpool2d"));
  Pool2dWindow too_much_padding;
  too_much_padding.kernel = {2, 2};
  too_much_padding.padding = {2, 2};
  EXPECT_TRUE(
      FailsWith(Pool2dCuda::CreateAvg(*handles, {2, 3, 8, 8}, {too_much_padding, true}).status(),
                "avgpool2d"));
  EXPECT_TRUE(FailsWith(Pool2dCuda::CreateGlobalAvg(*handles, {2, 3}).status(), "global_avgpool"));
}

}  // namespace
}  // namespace ald::cuda
