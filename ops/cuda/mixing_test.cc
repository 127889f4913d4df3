// The GPU mixing kernels: the weighted sum bit for bit against the CPU's summation order (also
// with out aliasing an input), axpy/scale against ops/ref/mixing.h, and the argument errors.
#include "ops/cuda/mixing.h"

#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/error_testing.h"
#include "ops/ref/mixing.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

std::vector<float> Floats(const std::vector<double>& values) {
  return std::vector<float>(values.begin(), values.end());
}

TEST(MixingCudaTest, WeightedSumMatchesCpuOrderBitwise) {
  SKIP_WITHOUT_CUDA();
  constexpr int64_t kN = 2053;
  uint64_t seed = 1100;
  for (const int k : {1, 3, 9}) {
    SCOPED_TRACE(::testing::Message() << k << " inputs");
    std::vector<std::vector<float>> inputs;
    std::vector<DeviceBuffer<float>> buffers;
    std::vector<const float*> pointers;
    const std::vector<float> weights = Floats(RandomValues(k, seed++, 0.0, 1.0));
    for (int j = 0; j < k; ++j) {
      inputs.push_back(Floats(RandomValues(kN, seed++)));
      ALD_ASSERT_OK_AND_ASSIGN(auto buffer, DeviceBuffer<float>::FromHost(inputs.back()));
      pointers.push_back(buffer.data());
      buffers.push_back(std::move(buffer));
    }
    // ops/mixing.cc's order: w0·in0, then + wj·inj for j = 1.. (each operation rounded to float;
    // gcc does not contract these without FMA in the target).
    std::vector<float> expected(kN);
    for (int64_t i = 0; i < kN; ++i) {
      float sum = weights[0] * inputs[0][i];
      for (int j = 1; j < k; ++j) sum += weights[j] * inputs[j][i];
      expected[i] = sum;
    }
    // In place into input 0, as x_i ← Σ_j W_ij·y_j overwrites y_i.
    ALD_ASSERT_OK(WeightedSum(weights, pointers, kN, buffers[0].data(), nullptr));
    ALD_ASSERT_OK(CudaStatus(cudaDeviceSynchronize(), "cudaDeviceSynchronize"));
    ALD_ASSERT_OK_AND_ASSIGN(std::vector<float> out, buffers[0].ToHost());
    EXPECT_EQ(out, expected);
  }
}

TEST(MixingCudaTest, AxpyAndScaleMatchReference) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  constexpr int64_t kN = 777;
  const std::vector<float> x = Floats(RandomValues(kN, 1200));
  const std::vector<float> y = Floats(RandomValues(kN, 1201));
  std::vector<double> x_ref(x.begin(), x.end()), y_ref(y.begin(), y.end());
  ref::Axpy<double>(0.3, x_ref, y_ref);
  ref::Scale<double>(-1.5, x_ref);
  ALD_ASSERT_OK_AND_ASSIGN(auto x_dev, DeviceBuffer<float>::FromHost(x));
  ALD_ASSERT_OK_AND_ASSIGN(auto y_dev, DeviceBuffer<float>::FromHost(y));
  ALD_ASSERT_OK(Axpy(*handles, kN, 0.3f, x_dev.data(), y_dev.data()));
  ALD_ASSERT_OK(Scale(*handles, kN, -1.5f, x_dev.data()));
  ALD_ASSERT_OK(handles->Synchronize());
  ALD_ASSERT_OK_AND_ASSIGN(std::vector<float> x_out, x_dev.ToHost());
  ALD_ASSERT_OK_AND_ASSIGN(std::vector<float> y_out, y_dev.ToHost());
  EXPECT_TRUE(AllClose(std::vector<double>(y_out.begin(), y_out.end()), y_ref, 1e-6, 1e-6));
  EXPECT_TRUE(AllClose(std::vector<double>(x_out.begin(), x_out.end()), x_ref, 1e-6, 1e-6));
}

TEST(MixingCudaTest, RejectsBadArguments) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  ALD_ASSERT_OK_AND_ASSIGN(auto buffer, DeviceBuffer<float>::Create(32));
  const std::vector<float> one_weight{1.0f};
  const std::vector<const float*> two_inputs{buffer.data(), buffer.data()};
  EXPECT_TRUE(FailsWith(WeightedSum(one_weight, two_inputs, 16, buffer.data(), nullptr),
                        "weighted sum: got 1 weights and 2 inputs"));
  const std::vector<const float*> shifted{buffer.data() + 4};
  EXPECT_TRUE(FailsWith(WeightedSum(one_weight, shifted, 16, buffer.data(), nullptr),
                        "weighted sum: input 0 partly overlaps out"));
  const std::vector<float> many_weights(40, 1.0f);
  const std::vector<const float*> many_inputs(40, buffer.data());
  EXPECT_TRUE(FailsWith(WeightedSum(many_weights, many_inputs, 16, buffer.data(), nullptr),
                        "weighted sum: got 40 weights and 40 inputs"));
  EXPECT_TRUE(FailsWith(Axpy(*handles, 16, 1.0f, buffer.data() + 1, buffer.data()),
                        "axpy: x partly overlaps y"));
}

}  // namespace
}  // namespace ald::cuda
