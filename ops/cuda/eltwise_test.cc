// Every registered element-wise function on CUDA against its reference (ops/eltwise), forward
// and backward, in place; every function has a CUDA half; the empty-shape error.
#include "ops/cuda/eltwise.h"

#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/eltwise/registry.h"
#include "ops/error_testing.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

TEST(EltwiseCudaTest, EveryFunctionHasACudaHalf) {
  for (const std::string& name : ald::eltwise::Names()) {
    EXPECT_NE(eltwise::Find(name), nullptr) << name;
  }
}

TEST(EltwiseCudaTest, MatchesReferenceInPlace) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  const Shape shape{3, 5, 7, 2};
  for (const std::string& name : ald::eltwise::Names()) {
    SCOPED_TRACE(name);
    const ald::eltwise::Function& f = *ald::eltwise::Find(name);
    const eltwise::CudaFunction* cuda_f = eltwise::Find(name);
    ASSERT_NE(cuda_f, nullptr);
    auto x = RoundedToFloat(RandomValues(shape.num_elements(), 500, -3, 3));
    x[0] = 0.0;  // relu'(0) = 0 in the reference: y = 0 is not > 0
    const auto dy = RoundedToFloat(RandomValues(shape.num_elements(), 501));
    const bool from_output = f.saved == ald::eltwise::Saved::kOutput;
    std::vector<double> y_ref(x.size()), dx_ref(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      y_ref[i] = f.forward(x[i]);
      dx_ref[i] = f.backward(from_output ? y_ref[i] : x[i], dy[i]);
    }

    ALD_ASSERT_OK_AND_ASSIGN(auto op, EltwiseCuda::Create(*handles, *cuda_f, shape));
    ALD_ASSERT_OK_AND_ASSIGN(auto x_dev, Upload(x));
    ALD_ASSERT_OK_AND_ASSIGN(auto y_dev, Upload(x));
    ALD_ASSERT_OK_AND_ASSIGN(auto dy_dev, Upload(dy));
    // In place, as the executor runs it after a layer whose output nobody else reads.
    ALD_ASSERT_OK(op->Forward(y_dev.data(), y_dev.data()));
    ALD_ASSERT_OK(op->Backward(from_output ? y_dev.data() : x_dev.data(), dy_dev.data(),
                               dy_dev.data()));
    ALD_ASSERT_OK(handles->Synchronize());
    ALD_ASSERT_OK_AND_ASSIGN(auto y, Download(y_dev));
    ALD_ASSERT_OK_AND_ASSIGN(auto dx, Download(dy_dev));
    // relu is exact; other functions round differently from the double reference.
    const double tolerance = name == "relu" ? 0 : 1e-5;
    EXPECT_TRUE(AllClose(y, y_ref, tolerance, tolerance)) << "forward";
    EXPECT_TRUE(AllClose(dx, dx_ref, tolerance, tolerance)) << "backward";
  }
}

TEST(EltwiseCudaTest, RejectsEmptyShape) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  EXPECT_TRUE(FailsWith(EltwiseCuda::Create(*handles, *eltwise::Find("relu"), {2, 0, 3}).status(),
                        "relu: empty input"));
}

}  // namespace
}  // namespace ald::cuda
