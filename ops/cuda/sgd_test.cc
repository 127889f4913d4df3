// SgdStep on the GPU: bit for bit the CPU's cpu::SgdStep over several steps (plain, weight
// decay, momentum, Nesterov), close to the torch-transcribed reference, and the config errors.
#include "ops/cuda/sgd.h"

#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/error_testing.h"
#include "ops/ref/sgd.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

std::vector<float> Floats(const std::vector<double>& values) {
  return std::vector<float>(values.begin(), values.end());
}

TEST(SgdCudaTest, MatchesCpuBitwiseAndReference) {
  SKIP_WITHOUT_CUDA();
  constexpr int64_t kN = 1031;  // not a multiple of the block size
  std::vector<cpu::SgdConfig> configs(4);
  configs[0].lr = 0.1f;
  configs[1] = {0.05f, 0.0f, false, 5e-4f};
  configs[2] = {0.1f, 0.9f, false, 5e-4f};
  configs[3] = {0.4f, 0.9f, true, 1e-3f};
  uint64_t seed = 1000;
  for (const cpu::SgdConfig& config : configs) {
    SCOPED_TRACE(::testing::Message()
                 << "lr " << config.lr << " momentum " << config.momentum << " nesterov "
                 << config.nesterov << " wd " << config.weight_decay);
    std::vector<float> x_cpu = Floats(RandomValues(kN, seed++));
    std::vector<float> buf_cpu(kN, 0.0f);
    std::vector<double> x_ref(x_cpu.begin(), x_cpu.end()), buf_ref;
    ALD_ASSERT_OK_AND_ASSIGN(auto x_dev, DeviceBuffer<float>::FromHost(x_cpu));
    ALD_ASSERT_OK_AND_ASSIGN(auto buf_dev, DeviceBuffer<float>::FromHost(buf_cpu));
    ALD_ASSERT_OK_AND_ASSIGN(auto g_dev, DeviceBuffer<float>::Create(kN));
    for (int step = 0; step < 3; ++step) {
      const std::vector<float> g = Floats(RandomValues(kN, seed++));
      const std::vector<double> g_ref(g.begin(), g.end());
      ALD_ASSERT_OK(g_dev.CopyFromHost(g));
      ALD_ASSERT_OK(SgdStep(config, kN, x_dev.data(), g_dev.data(),
                            config.momentum != 0 ? buf_dev.data() : nullptr, nullptr));
      ALD_ASSERT_OK(cpu::SgdStep(config, x_cpu, g, buf_cpu));
      ref::SgdStep<double>(config.lr, config.momentum, config.nesterov, config.weight_decay,
                           std::span<double>(x_ref), g_ref, buf_ref);
    }
    ALD_ASSERT_OK_AND_ASSIGN(std::vector<float> x_gpu, x_dev.ToHost());
    EXPECT_EQ(x_gpu, x_cpu) << "GPU and CPU parameters differ";
    const std::vector<double> x_gpu_d(x_gpu.begin(), x_gpu.end());
    EXPECT_TRUE(AllClose(x_gpu_d, x_ref, 1e-5, 1e-5)) << "reference";
    if (config.momentum != 0) {
      ALD_ASSERT_OK_AND_ASSIGN(std::vector<float> buf_gpu, buf_dev.ToHost());
      EXPECT_EQ(buf_gpu, buf_cpu) << "momentum buffers differ";
    }
  }
}

TEST(SgdCudaTest, RejectsBadConfigAndOverlap) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto x_dev, DeviceBuffer<float>::Create(16));
  ALD_ASSERT_OK_AND_ASSIGN(auto g_dev, DeviceBuffer<float>::Create(16));
  cpu::SgdConfig nesterov_without_momentum;
  nesterov_without_momentum.nesterov = true;
  EXPECT_TRUE(FailsWith(
      SgdStep(nesterov_without_momentum, 16, x_dev.data(), g_dev.data(), nullptr, nullptr),
      "sgd: nesterov requires momentum > 0"));
  EXPECT_TRUE(FailsWith(SgdStep({}, 16, x_dev.data(), x_dev.data() + 4, nullptr, nullptr),
                        "sgd: params, grads and momentum buffer overlap"));
  cpu::SgdConfig momentum;
  momentum.momentum = 0.9f;
  EXPECT_TRUE(FailsWith(SgdStep(momentum, 16, x_dev.data(), g_dev.data(), nullptr, nullptr),
                        "sgd: null buffer"));
}

}  // namespace
}  // namespace ald::cuda
