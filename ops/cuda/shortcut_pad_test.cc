// ShortcutPadCuda against ops/ref/shortcut_pad.h (exact: it only moves values), and its shape
// error.
#include "ops/cuda/shortcut_pad.h"

#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/error_testing.h"
#include "ops/ref/shortcut_pad.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

TEST(ShortcutPadCudaTest, MatchesReference) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  struct Case {
    Shape input;
    ShortcutPadAttrs attrs;
  };
  uint64_t seed = 1300;
  for (const Case& c : std::vector<Case>{{{2, 16, 8, 8}, {32, 2}},   // ResNet's stage change
                                         {{2, 3, 5, 7}, {8, 2}},     // odd sizes, odd padding
                                         {{1, 4, 3, 3}, {4, 1}}}) {  // identity
    SCOPED_TRACE(c.input.ToString());
    ALD_ASSERT_OK_AND_ASSIGN(auto op, ShortcutPadCuda::Create(*handles, c.input, c.attrs));
    const Shape& out = op->output_shape();
    const ref::ShortcutPadDims dims{
        c.input[0], c.input[1],     c.input[2],
        c.input[3], out[1],         out[2],
        out[3],     c.attrs.stride, ShortcutPadBefore(c.input[1], c.attrs)};
    const auto x = RoundedToFloat(RandomValues(c.input.num_elements(), seed++));
    const auto dy = RoundedToFloat(RandomValues(out.num_elements(), seed++));
    std::vector<double> y_ref(dy.size()), dx_ref(x.size());
    ref::ShortcutPadForward<double>(dims, x, y_ref);
    ref::ShortcutPadBackward<double>(dims, dy, dx_ref);

    ALD_ASSERT_OK_AND_ASSIGN(auto x_dev, Upload(x));
    ALD_ASSERT_OK_AND_ASSIGN(auto dy_dev, Upload(dy));
    ALD_ASSERT_OK_AND_ASSIGN(auto y_dev, DeviceBuffer<float>::Create(out.num_elements()));
    ALD_ASSERT_OK_AND_ASSIGN(auto dx_dev, DeviceBuffer<float>::Create(c.input.num_elements()));
    ALD_ASSERT_OK(op->Forward(x_dev.data(), y_dev.data()));
    ALD_ASSERT_OK(op->Backward(dy_dev.data(), dx_dev.data()));
    ALD_ASSERT_OK(handles->Synchronize());
    ALD_ASSERT_OK_AND_ASSIGN(auto y, Download(y_dev));
    ALD_ASSERT_OK_AND_ASSIGN(auto dx, Download(dx_dev));
    EXPECT_TRUE(AllClose(y, y_ref, 0, 0)) << "forward";
    EXPECT_TRUE(AllClose(dx, dx_ref, 0, 0)) << "backward";
  }
}

TEST(ShortcutPadCudaTest, RejectsFewerOutputChannels) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  EXPECT_TRUE(
      FailsWith(ShortcutPadCuda::Create(*handles, {2, 16, 8, 8}, {8, 2}).status(), "shortcut_pad"));
}

}  // namespace
}  // namespace ald::cuda
