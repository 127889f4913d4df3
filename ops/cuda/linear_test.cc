// LinearCuda against the reference loops (ops/ref/linear.h), forward and backward, with and
// without bias, in fp32 and in bf16, and the shape errors of the CPU rule.
#include "ops/cuda/linear.h"

#include <type_traits>
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

struct Case {
  Shape input, weight;
  bool bias;
};

// Odd sizes, so that a transposed leading dimension would read the wrong elements.
std::vector<Case> Cases() {
  return {{{5, 7}, {3, 7}, true},
          {{16, 64}, {10, 64}, false},
          {{1, 3}, {70, 3}, true},
          {{33, 70}, {1, 70}, true}};
}

// One case against the double-precision reference, on inputs exact in T (float or BFloat16).
// `atol` and `rtol` bound y and dx; dW and db are fp32 sums of exact products in both types.
template <typename T>
void CheckAgainstReference(const CudaHandles& handles, const Case& c, uint64_t seed, double atol,
                           double rtol) {
  constexpr bool kBf16 = std::is_same_v<T, BFloat16>;
  LinearAttrs attrs;
  attrs.bias = c.bias;
  ALD_ASSERT_OK_AND_ASSIGN(auto op, LinearCuda::Create(handles, c.input, c.weight, attrs,
                                                       kBf16 ? DType::kBF16 : DType::kF32));
  const LinearShapes& s = op->shapes();
  const ref::LinearDims dims = RefDims(s);
  const auto x = ExactIn<T>(RandomValues(s.input.num_elements(), seed++));
  const auto w = ExactIn<T>(RandomValues(s.weight.num_elements(), seed++));
  const auto b = RoundedToFloat(RandomValues(s.weight[0], seed++));
  const auto dy = ExactIn<T>(RandomValues(s.output.num_elements(), seed++));
  const std::vector<double> no_bias;
  std::vector<double> y_ref(dy.size()), dx_ref(x.size()), dw_ref(w.size()), db_ref(b.size());
  ref::LinearForward<double>(dims, x, w, c.bias ? b : no_bias, y_ref);
  ref::LinearBackwardData<double>(dims, dy, w, dx_ref);
  ref::LinearBackwardWeights<double>(dims, x, dy, dw_ref, db_ref);

  ALD_ASSERT_OK_AND_ASSIGN(LayerBuffers<T> d, MakeLayerBuffers<T>(x, w, b, dy));
  const void* weights = d.w.data();
  if (kBf16) {
    ALD_ASSERT_OK(op->PrepareWeights(d.w.data(), d.w16.data()));
    weights = d.w16.data();
  }
  ALD_ASSERT_OK(op->Forward(d.x.data(), weights, d.b.data(), d.y.data()));
  ALD_ASSERT_OK(op->BackwardData(d.dy.data(), weights, d.dx.data()));
  ALD_ASSERT_OK(op->BackwardWeights(d.x.data(), d.dy.data(), d.dw.data(), d.db.data()));
  ALD_ASSERT_OK(handles.Synchronize());

  ALD_ASSERT_OK_AND_ASSIGN(auto y, Download(d.y));
  ALD_ASSERT_OK_AND_ASSIGN(auto dx, Download(d.dx));
  ALD_ASSERT_OK_AND_ASSIGN(auto dw, Download(d.dw));
  EXPECT_TRUE(AllClose(y, y_ref, atol, rtol)) << "forward";
  EXPECT_TRUE(AllClose(dx, dx_ref, atol, rtol)) << "backward data";
  EXPECT_TRUE(AllClose(dw, dw_ref, kAtol, kRtol)) << "backward weights";
  if (c.bias) {
    ALD_ASSERT_OK_AND_ASSIGN(auto db, Download(d.db));
    EXPECT_TRUE(AllClose(db, db_ref, kAtol, kRtol)) << "bias gradient";
  }
}

TEST(LinearCudaTest, ForwardAndBackwardMatchReference) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  uint64_t seed = 10;
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.input.ToString() + " " + c.weight.ToString());
    CheckAgainstReference<float>(*handles, c, seed, kAtol, kRtol);
    seed += 4;
  }
}

// --precision=bf16 on the tensor cores: y and dx are rounded once to bf16 (relative 2^-9, with a
// margin); dW comes out of cuBLAS in fp32.
TEST(LinearCudaTest, Bf16MatchesReferenceAtBf16Tolerance) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  uint64_t seed = 110;
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.input.ToString() + " " + c.weight.ToString());
    CheckAgainstReference<BFloat16>(*handles, c, seed, 1e-2, 4e-3);
    seed += 4;
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
