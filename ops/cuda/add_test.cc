// AddCuda against ops/ref/add.h, with and without the fused ReLU, and the shape error.
#include "ops/cuda/add.h"

#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/error_testing.h"
#include "ops/ref/add.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

TEST(AddCudaTest, MatchesReference) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  const Shape shape{2, 16, 4, 4};
  for (const bool fuse_relu : {false, true}) {
    SCOPED_TRACE(fuse_relu ? "relu" : "plain");
    const auto a = RoundedToFloat(RandomValues(shape.num_elements(), 600));
    const auto b = RoundedToFloat(RandomValues(shape.num_elements(), 601));
    const auto dy = RoundedToFloat(RandomValues(shape.num_elements(), 602));
    std::vector<double> y_ref(a.size()), dx_ref(a.size());
    ref::AddForward<double>(a, b, fuse_relu, y_ref);
    ref::AddBackward<double>(y_ref, dy, fuse_relu, dx_ref);

    AddAttrs attrs;
    attrs.fuse_relu = fuse_relu;
    ALD_ASSERT_OK_AND_ASSIGN(auto op, AddCuda::Create(*handles, shape, shape, attrs));
    ALD_ASSERT_OK_AND_ASSIGN(auto a_dev, Upload(a));
    ALD_ASSERT_OK_AND_ASSIGN(auto b_dev, Upload(b));
    ALD_ASSERT_OK_AND_ASSIGN(auto dy_dev, Upload(dy));
    ALD_ASSERT_OK_AND_ASSIGN(auto y_dev, DeviceBuffer<float>::Create(shape.num_elements()));
    ALD_ASSERT_OK_AND_ASSIGN(auto dx_dev, DeviceBuffer<float>::Create(shape.num_elements()));
    ALD_ASSERT_OK(op->Forward(a_dev.data(), b_dev.data(), y_dev.data()));
    ALD_ASSERT_OK(op->Backward(y_dev.data(), dy_dev.data(), dx_dev.data()));
    ALD_ASSERT_OK(handles->Synchronize());
    ALD_ASSERT_OK_AND_ASSIGN(auto y, Download(y_dev));
    ALD_ASSERT_OK_AND_ASSIGN(auto dx, Download(dx_dev));
    // One fp32 addition, correctly rounded on both sides.
    EXPECT_TRUE(AllClose(y, y_ref, 1e-7, 1e-7)) << "forward";
    EXPECT_TRUE(AllClose(dx, dx_ref, 0, 0)) << "backward";
  }
}

TEST(AddCudaTest, RejectsDifferentShapes) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  EXPECT_TRUE(FailsWith(AddCuda::Create(*handles, {2, 3}, {3, 2}, {}).status(), "add"));
}

}  // namespace
}  // namespace ald::cuda
