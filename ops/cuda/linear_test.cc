// LinearCuda against the reference loops (ops/ref/linear.h), forward and backward, with and
// without bias, and the shape errors of the CPU rule.
#include "ops/cuda/linear.h"

#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/error_testing.h"
#include "ops/ref/linear.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

// fp32 GEMM (CudaHandles keeps cuBLAS out of TF32) over at most 70 products of values in [-1, 1].
constexpr double kAtol = 1e-4, kRtol = 1e-4;

TEST(LinearCudaTest, ForwardAndBackwardMatchReference) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  struct Case {
    Shape input, weight;
    bool bias;
  };
  uint64_t seed = 10;
  // Odd sizes, so that a transposed leading dimension would read the wrong elements.
  for (const Case& c : std::vector<Case>{{{5, 7}, {3, 7}, true},
                                         {{16, 64}, {10, 64}, false},
                                         {{1, 3}, {70, 3}, true},
                                         {{33, 70}, {1, 70}, true}}) {
    SCOPED_TRACE(c.input.ToString() + " " + c.weight.ToString());
    LinearAttrs attrs;
    attrs.bias = c.bias;
    ALD_ASSERT_OK_AND_ASSIGN(auto op, LinearCuda::Create(*handles, c.input, c.weight, attrs));
    const LinearShapes& s = op->shapes();
    const ref::LinearDims dims = RefDims(s);
    const auto x = RoundedToFloat(RandomValues(s.input.num_elements(), seed++));
    const auto w = RoundedToFloat(RandomValues(s.weight.num_elements(), seed++));
    const auto b = RoundedToFloat(RandomValues(s.weight[0], seed++));
    const auto dy = RoundedToFloat(RandomValues(s.output.num_elements(), seed++));
    const std::vector<double> no_bias;
    std::vector<double> y_ref(dy.size()), dx_ref(x.size()), dw_ref(w.size()), db_ref(b.size());
    ref::LinearForward<double>(dims, x, w, c.bias ? b : no_bias, y_ref);
    ref::LinearBackwardData<double>(dims, dy, w, dx_ref);
    ref::LinearBackwardWeights<double>(dims, x, dy, dw_ref, db_ref);

    ALD_ASSERT_OK_AND_ASSIGN(auto x_dev, Upload(x));
    ALD_ASSERT_OK_AND_ASSIGN(auto w_dev, Upload(w));
    ALD_ASSERT_OK_AND_ASSIGN(auto b_dev, Upload(b));
    ALD_ASSERT_OK_AND_ASSIGN(auto dy_dev, Upload(dy));
    ALD_ASSERT_OK_AND_ASSIGN(auto y_dev, DeviceBuffer<float>::Create(s.output.num_elements()));
    ALD_ASSERT_OK_AND_ASSIGN(auto dx_dev, DeviceBuffer<float>::Create(s.input.num_elements()));
    ALD_ASSERT_OK_AND_ASSIGN(auto dw_dev, DeviceBuffer<float>::Create(s.weight.num_elements()));
    ALD_ASSERT_OK_AND_ASSIGN(auto db_dev, DeviceBuffer<float>::Create(s.weight[0]));
    ALD_ASSERT_OK(op->Forward(x_dev.data(), w_dev.data(), b_dev.data(), y_dev.data()));
    ALD_ASSERT_OK(op->BackwardData(dy_dev.data(), w_dev.data(), dx_dev.data()));
    ALD_ASSERT_OK(op->BackwardWeights(x_dev.data(), dy_dev.data(), dw_dev.data(), db_dev.data()));
    ALD_ASSERT_OK(handles->Synchronize());

    ALD_ASSERT_OK_AND_ASSIGN(auto y, Download(y_dev));
    ALD_ASSERT_OK_AND_ASSIGN(auto dx, Download(dx_dev));
    ALD_ASSERT_OK_AND_ASSIGN(auto dw, Download(dw_dev));
    EXPECT_TRUE(AllClose(y, y_ref, kAtol, kRtol)) << "forward";
    EXPECT_TRUE(AllClose(dx, dx_ref, kAtol, kRtol)) << "backward data";
    EXPECT_TRUE(AllClose(dw, dw_ref, kAtol, kRtol)) << "backward weights";
    if (c.bias) {
      ALD_ASSERT_OK_AND_ASSIGN(auto db, Download(db_dev));
      EXPECT_TRUE(AllClose(db, db_ref, kAtol, kRtol)) << "bias gradient";
    }
  }
}

TEST(LinearCudaTest, RejectsBadShapesWithTheCpuMessages) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  EXPECT_TRUE(FailsWith(LinearCuda::Create(*handles, {8, 64}, {10, 32}, {}).status(),
                        "linear: input has 64 features, weight expects 32 (input [8, 64], "
                        "weight [10, 32])"));
  EXPECT_TRUE(FailsWith(LinearCuda::Create(*handles, {8, 4, 4}, {10, 4}, {}).status(), "linear"));
}

}  // namespace
}  // namespace ald::cuda
