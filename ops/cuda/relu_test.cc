// ReluCuda against ops/ref/relu.h, forward and backward (also in place), and the empty-shape error.
#include "ops/cuda/relu.h"

#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/error_testing.h"
#include "ops/ref/relu.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

TEST(ReluCudaTest, MatchesReferenceAlsoInPlace) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  const Shape shape{3, 5, 7, 2};
  auto x = RoundedToFloat(RandomValues(shape.num_elements(), 500));
  x[0] = 0.0;  // relu'(0) = 0 in the reference: y = 0 is not > 0
  const auto dy = RoundedToFloat(RandomValues(shape.num_elements(), 501));
  std::vector<double> y_ref(x.size()), dx_ref(x.size());
  ref::ReluForward<double>(x, y_ref);
  ref::ReluBackward<double>(y_ref, dy, dx_ref);

  ALD_ASSERT_OK_AND_ASSIGN(auto op, ReluCuda::Create(*handles, shape));
  ALD_ASSERT_OK_AND_ASSIGN(auto x_dev, Upload(x));
  ALD_ASSERT_OK_AND_ASSIGN(auto dy_dev, Upload(dy));
  // In place, as the executor runs it after a layer whose output nobody else reads.
  ALD_ASSERT_OK(op->Forward(x_dev.data(), x_dev.data()));
  ALD_ASSERT_OK(op->Backward(x_dev.data(), dy_dev.data(), dy_dev.data()));
  ALD_ASSERT_OK(handles->Synchronize());
  ALD_ASSERT_OK_AND_ASSIGN(auto y, Download(x_dev));
  ALD_ASSERT_OK_AND_ASSIGN(auto dx, Download(dy_dev));
  EXPECT_TRUE(AllClose(y, y_ref, 0, 0)) << "forward";
  EXPECT_TRUE(AllClose(dx, dx_ref, 0, 0)) << "backward";
}

TEST(ReluCudaTest, RejectsEmptyShape) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  EXPECT_TRUE(FailsWith(ReluCuda::Create(*handles, {2, 0, 3}).status(), "relu: empty input"));
}

}  // namespace
}  // namespace ald::cuda
