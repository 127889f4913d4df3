// DropoutCuda: the GPU keep mask is bit-identical to the CPU's DropoutKeepMask (seeds above
// 2^32, layers whose positions pass 2^32 blocks), forward/backward equal the CPU kernel's
// x·scale exactly and the reference closely, inference copies; bad p is rejected.
#include "ops/cuda/dropout.h"

#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/error_testing.h"
#include "ops/ref/dropout.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

std::vector<float> Floats(const std::vector<double>& values) {
  return std::vector<float>(values.begin(), values.end());
}

TEST(DropoutCudaTest, MaskIsBitIdenticalToCpu) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  const Shape shape{3, 1001};  // not a multiple of 4: the last Philox block is partly used
  for (const uint32_t layer : {0u, 1u, 5000u}) {  // 5000·2^40 / 4 needs the counter's 2nd word
    for (const DropoutKey key : {DropoutKey{1, 0, 0}, DropoutKey{0x123456789abcdefull, 7, 4242}}) {
      for (const float p : {0.1f, 0.5f, 0.9f}) {
        SCOPED_TRACE(::testing::Message()
                     << "layer " << layer << " seed " << key.seed << " p " << p);
        DropoutAttrs attrs;
        attrs.p = p;
        attrs.layer = layer;
        ALD_ASSERT_OK_AND_ASSIGN(auto op, DropoutCuda::Create(*handles, shape, attrs));
        ALD_ASSERT_OK_AND_ASSIGN(auto mask_dev,
                                 DeviceBuffer<uint8_t>::Create(shape.num_elements()));
        ALD_ASSERT_OK(op->KeepMask(key, mask_dev.data()));
        ALD_ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> mask, mask_dev.ToHost());
        EXPECT_EQ(mask, DropoutKeepMask(attrs, key, shape.num_elements()));
      }
    }
  }
}

TEST(DropoutCudaTest, ForwardBackwardAndInference) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  const Shape shape{4, 8, 5, 5};
  DropoutAttrs attrs;
  attrs.p = 0.3f;
  attrs.layer = 2;
  const DropoutKey key{42, 3, 17};
  ALD_ASSERT_OK_AND_ASSIGN(auto op, DropoutCuda::Create(*handles, shape, attrs));
  const std::vector<float> x = Floats(RandomValues(shape.num_elements(), 1400));
  const std::vector<float> dy = Floats(RandomValues(shape.num_elements(), 1401));
  const std::vector<uint8_t> keep = DropoutKeepMask(attrs, key, shape.num_elements());
  // The CPU kernel's arithmetic (ops/cpu/dropout.cc): kept values times 1/(1 - p) in float.
  const float scale = 1.0f / (1.0f - attrs.p);
  std::vector<float> y_cpu(x.size()), dx_cpu(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    y_cpu[i] = keep[i] ? x[i] * scale : 0.0f;
    dx_cpu[i] = keep[i] ? dy[i] * scale : 0.0f;
  }
  std::vector<double> y_ref(x.size());
  ref::DropoutForward<double>(std::vector<double>(x.begin(), x.end()), keep, attrs.p, y_ref);

  ALD_ASSERT_OK_AND_ASSIGN(auto x_dev, DeviceBuffer<float>::FromHost(x));
  ALD_ASSERT_OK_AND_ASSIGN(auto dy_dev, DeviceBuffer<float>::FromHost(dy));
  ALD_ASSERT_OK_AND_ASSIGN(auto y_dev, DeviceBuffer<float>::Create(shape.num_elements()));
  ALD_ASSERT_OK_AND_ASSIGN(auto copy_dev, DeviceBuffer<float>::Create(shape.num_elements()));
  ALD_ASSERT_OK(op->Forward(x_dev.data(), key, y_dev.data()));
  ALD_ASSERT_OK(op->Backward(dy_dev.data(), key, dy_dev.data()));  // in place
  ALD_ASSERT_OK(op->ForwardInference(x_dev.data(), copy_dev.data()));
  ALD_ASSERT_OK(handles->Synchronize());
  ALD_ASSERT_OK_AND_ASSIGN(std::vector<float> y, y_dev.ToHost());
  ALD_ASSERT_OK_AND_ASSIGN(std::vector<float> dx, dy_dev.ToHost());
  ALD_ASSERT_OK_AND_ASSIGN(std::vector<float> copy, copy_dev.ToHost());
  EXPECT_EQ(y, y_cpu);
  EXPECT_EQ(dx, dx_cpu);
  EXPECT_EQ(copy, x);
  EXPECT_TRUE(AllClose(std::vector<double>(y.begin(), y.end()), y_ref, 1e-6, 1e-6));
}

TEST(DropoutCudaTest, RejectsBadProbability) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  DropoutAttrs attrs;
  attrs.p = 1.0f;
  EXPECT_TRUE(FailsWith(DropoutCuda::Create(*handles, {2, 3}, attrs).status(),
                        "dropout: p = 1 is outside [0, 1) (input [2, 3])"));
}

}  // namespace
}  // namespace ald::cuda
