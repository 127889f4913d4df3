// The bf16 kernels against host arithmetic: the casts bit for bit against core/bfloat16.h (ties,
// NaN, infinities, subnormals), and bias + ReLU, the ReLU gradient, the bias gradient and the
// gradient sum against the same float operations on the host.
#include "ops/cuda/bf16_kernels.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

float FromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

std::vector<uint16_t> BitsOf(const std::vector<BFloat16>& values) {
  std::vector<uint16_t> bits;
  for (BFloat16 v : values) bits.push_back(v.bits);
  return bits;
}

TEST(Bf16KernelsTest, CastsMatchTheHostConversionBitForBit) {
  SKIP_WITHOUT_CUDA();
  std::vector<float> values = {0.0f, -0.0f, 1.0f, -2.5f, 3.14159f, 1e-40f, -1e-45f, 65504.0f,
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN(),
                               FromBits(0x7f800001u),   // a signalling NaN: stays a NaN
                               FromBits(0x3f808000u),   // a tie, rounds to even (down)
                               FromBits(0x3f818000u),   // a tie, rounds to even (up)
                               FromBits(0x7f7fffffu)};  // the largest float: rounds to inf
  for (const double v : RandomValues(1000, 7)) values.push_back(static_cast<float>(v * 1e3));
  const int64_t n = static_cast<int64_t>(values.size());
  std::vector<BFloat16> expected;
  for (float v : values) expected.emplace_back(v);

  ALD_ASSERT_OK_AND_ASSIGN(auto in, DeviceBuffer<float>::FromHost(values));
  ALD_ASSERT_OK_AND_ASSIGN(auto halves, DeviceBuffer<BFloat16>::Create(n));
  ALD_ASSERT_OK_AND_ASSIGN(auto back, DeviceBuffer<float>::Create(n));
  ALD_ASSERT_OK(CudaStatus(kernels::CastToBf16(in.data(), halves.data(), n, nullptr), "cast"));
  ALD_ASSERT_OK(CudaStatus(kernels::CastToF32(halves.data(), back.data(), n, nullptr), "cast"));
  ALD_ASSERT_OK_AND_ASSIGN(std::vector<BFloat16> got, halves.ToHost());
  EXPECT_EQ(BitsOf(got), BitsOf(expected));
  ALD_ASSERT_OK_AND_ASSIGN(std::vector<float> widened, back.ToHost());
  for (int64_t i = 0; i < n; ++i) {
    const float want = static_cast<float>(expected[i]);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(widened[i])) << i;
    } else {
      EXPECT_EQ(widened[i], want) << i;
    }
  }
}

TEST(Bf16KernelsTest, BiasReluAndItsGradients) {
  SKIP_WITHOUT_CUDA();
  const int64_t outer = 3, channels = 5, inner = 37, n = outer * channels * inner;
  const std::vector<double> y0 = RoundedToBf16(RandomValues(n, 11));
  const std::vector<double> dy = RoundedToBf16(RandomValues(n, 12));
  const std::vector<double> bias = RoundedToFloat(RandomValues(channels, 13));
  std::vector<float> bias_f(bias.begin(), bias.end());

  ALD_ASSERT_OK_AND_ASSIGN(auto y, UploadBf16(y0));
  ALD_ASSERT_OK_AND_ASSIGN(auto b, DeviceBuffer<float>::FromHost(bias_f));
  ALD_ASSERT_OK_AND_ASSIGN(auto dy_dev, UploadBf16(dy));
  ALD_ASSERT_OK_AND_ASSIGN(auto dz, DeviceBuffer<BFloat16>::Create(n));
  ALD_ASSERT_OK_AND_ASSIGN(auto db, DeviceBuffer<float>::Create(channels));
  ALD_ASSERT_OK(CudaStatus(
      kernels::BiasReluBf16(y.data(), b.data(), outer, channels, inner, true, nullptr), "bias"));
  ALD_ASSERT_OK(CudaStatus(kernels::ReluBackwardBf16(y.data(), dy_dev.data(), dz.data(), n,
                                                     nullptr),
                           "relu"));
  ALD_ASSERT_OK(CudaStatus(
      kernels::BiasGradientBf16(dy_dev.data(), outer, channels, inner, db.data(), nullptr),
      "bias gradient"));
  ALD_ASSERT_OK_AND_ASSIGN(std::vector<double> y_got, Download(y));
  ALD_ASSERT_OK_AND_ASSIGN(std::vector<double> dz_got, Download(dz));
  ALD_ASSERT_OK_AND_ASSIGN(std::vector<float> db_got, db.ToHost());

  std::vector<double> sums(channels, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = (i / inner) % channels;
    const float pre = static_cast<float>(y0[i]) + bias_f[c];
    const float want = static_cast<float>(BFloat16(pre > 0.0f ? pre : 0.0f));
    ASSERT_EQ(y_got[i], want) << i;
    ASSERT_EQ(dz_got[i], want > 0.0f ? dy[i] : 0.0) << i;
    sums[c] += dy[i];
  }
  // Float sums of 111 values in [-1, 1] in a fixed tree order, against exact double sums.
  for (int64_t c = 0; c < channels; ++c) EXPECT_NEAR(db_got[c], sums[c], 1e-4) << c;
}

TEST(Bf16KernelsTest, SumAddsInFloatAndRoundsOnce) {
  SKIP_WITHOUT_CUDA();
  const int64_t n = 999;
  std::vector<std::vector<double>> parts;
  std::vector<DeviceBuffer<BFloat16>> buffers;
  std::vector<const BFloat16*> pointers;
  for (int j = 0; j < 3; ++j) {
    parts.push_back(RoundedToBf16(RandomValues(n, 20 + j)));
    ALD_ASSERT_OK_AND_ASSIGN(auto buffer, UploadBf16(parts.back()));
    buffers.push_back(std::move(buffer));
    pointers.push_back(buffers.back().data());
  }
  ALD_ASSERT_OK_AND_ASSIGN(auto out, DeviceBuffer<BFloat16>::Create(n));
  ALD_ASSERT_OK(CudaStatus(kernels::SumBf16(3, pointers.data(), n, out.data(), nullptr), "sum"));
  ALD_ASSERT_OK_AND_ASSIGN(std::vector<double> got, Download(out));
  for (int64_t i = 0; i < n; ++i) {
    const float sum = (static_cast<float>(parts[0][i]) + static_cast<float>(parts[1][i])) +
                      static_cast<float>(parts[2][i]);
    ASSERT_EQ(got[i], static_cast<float>(BFloat16(sum))) << i;
  }
  EXPECT_EQ(kernels::SumBf16(0, pointers.data(), n, out.data(), nullptr), cudaErrorInvalidValue);
}

}  // namespace
}  // namespace ald::cuda
