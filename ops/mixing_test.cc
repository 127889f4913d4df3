// Consensus kernels: hand-computed cases, the kernels against the reference loops on large
// odd-sized buffers with coefficients changing between calls, in-place use, and bad calls.
#include "ops/mixing.h"

#include <memory>
#include <string>
#include <vector>

#include "ops/ref/mixing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using cpu::AxpyCpu;
using cpu::ScaleCpu;
using cpu::WeightedSumCpu;
using testing::AllClose;
using testing::RandomValues;

// The same values in another floating-point type (Cast<float>: rounded to what kernels see).
template <typename To, typename From>
std::vector<To> Cast(const std::vector<From>& values) {
  return std::vector<To>(values.begin(), values.end());
}

// Builds a kernel, failing the test (not crashing it) when that does not work.
template <typename Kernel, typename... Args>
std::unique_ptr<Kernel> Build(Args... args) {
  absl::StatusOr<std::unique_ptr<Kernel>> kernel = Kernel::Create(args...);
  EXPECT_TRUE(kernel.ok()) << kernel.status();
  return kernel.ok() ? *std::move(kernel) : nullptr;
}

// Every value below is a small dyadic number, so the results are exact.
TEST(MixingTest, HandComputed) {
  // y + 0.5·x = [1 + 1, 1 - 2, 1 + 3].
  std::vector<float> x = {2.f, -4.f, 6.f}, y = {1.f, 1.f, 1.f};
  std::unique_ptr<AxpyCpu> axpy = Build<AxpyCpu>(3);
  ASSERT_NE(axpy, nullptr);
  ASSERT_TRUE(axpy->Run(0.5f, x, y).ok());
  EXPECT_EQ(y, (std::vector<float>{2.f, -1.f, 4.f}));

  // -0.25·[4, -8, 1].
  std::vector<float> z = {4.f, -8.f, 1.f};
  std::unique_ptr<ScaleCpu> scale = Build<ScaleCpu>(3);
  ASSERT_NE(scale, nullptr);
  ASSERT_TRUE(scale->Run(-0.25f, z).ok());
  EXPECT_EQ(z, (std::vector<float>{-1.f, 2.f, -0.25f}));

  // A D-PSGD combine with two active neighbours and α = 0.25, in place on the own model:
  // 0.5·[4, 8] + 0.25·[0, -8] + 0.25·[2, 16] = [2 + 0 + 0.5, 4 - 2 + 4] = [2.5, 6].
  std::vector<float> own = {4.f, 8.f};
  const std::vector<float> left = {0.f, -8.f}, right = {2.f, 16.f};
  const std::vector<float> weights = {0.5f, 0.25f, 0.25f};
  const std::vector<std::span<const float>> inputs = {own, left, right};
  std::unique_ptr<WeightedSumCpu> sum = Build<WeightedSumCpu>(3, 2);
  ASSERT_NE(sum, nullptr);
  ASSERT_TRUE(sum->Run(weights, inputs, own).ok());
  EXPECT_EQ(own, (std::vector<float>{2.5f, 6.f}));
}

// Odd lengths for vector tails, and lengths around the 1024-float chunk of the sum of more
// than 8 inputs.
const std::vector<int64_t> kLengths = {1, 17, 1024, 1025, 2049, 1000003};

// Float kernels against the double reference on the same float inputs. Tolerance: with inputs
// and coefficients in [-1, 1], each float result carries at most ~k roundings of values of
// order k (k <= 13 here), i.e. well under 1e-6 absolute.
TEST(MixingTest, AxpyAndScaleMatchReferenceWithChangingCoefficients) {
  for (const int64_t n : kLengths) {
    SCOPED_TRACE("n = " + std::to_string(n));
    std::unique_ptr<AxpyCpu> axpy = Build<AxpyCpu>(n);
    std::unique_ptr<ScaleCpu> scale = Build<ScaleCpu>(n);
    ASSERT_TRUE(axpy && scale);
    const std::vector<float> x = Cast<float>(RandomValues(n, 1));
    std::vector<float> y = Cast<float>(RandomValues(n, 2));
    std::vector<double> y_ref = Cast<double>(y);
    // The same kernels, built once, with a new coefficient at every call.
    for (const float a : {0.5f, -1.75f, 0.3f}) {
      ASSERT_TRUE(axpy->Run(a, x, y).ok());
      ref::Axpy<double>(a, Cast<double>(x), y_ref);
      ASSERT_TRUE(AllClose(Cast<double>(y), y_ref, 1e-6, 1e-6));
      ASSERT_TRUE(scale->Run(-a, y).ok());
      ref::Scale<double>(-a, y_ref);
      ASSERT_TRUE(AllClose(Cast<double>(y), y_ref, 1e-6, 1e-6));
      // Round the reference to what the kernel holds, so that error does not compound.
      y_ref = Cast<double>(y);
    }
  }
}

TEST(MixingTest, WeightedSumMatchesReferenceWithChangingWeights) {
  for (const int64_t n : kLengths) {
    for (const int k : {1, 2, 3, 6, 8, 9, 13}) {
      SCOPED_TRACE("n = " + std::to_string(n) + ", k = " + std::to_string(k));
      std::unique_ptr<WeightedSumCpu> sum = Build<WeightedSumCpu>(k, n);
      ASSERT_NE(sum, nullptr);
      std::vector<std::vector<float>> buffers;
      std::vector<std::span<const float>> inputs;
      std::vector<std::vector<double>> inputs_ref;
      for (int j = 0; j < k; ++j) buffers.push_back(Cast<float>(RandomValues(n, 10 + j)));
      for (int j = 0; j < k; ++j) {
        inputs.push_back(buffers[j]);
        inputs_ref.push_back(Cast<double>(buffers[j]));
      }
      const std::vector<std::span<const double>> spans_ref(inputs_ref.begin(),
                                                           inputs_ref.end());
      for (uint64_t round = 0; round < 2; ++round) {
        const std::vector<float> weights = Cast<float>(RandomValues(k, 100 + round));
        std::vector<float> out(n, 0.f);
        std::vector<double> out_ref(n);
        ASSERT_TRUE(sum->Run(weights, inputs, out).ok());
        ref::WeightedSum<double>(Cast<double>(weights), spans_ref, out_ref);
        ASSERT_TRUE(AllClose(Cast<double>(out), out_ref, 1e-6, 1e-6));
      }
    }
  }
}

// The mixing step overwrites one of its inputs; which one, and whether an input appears
// twice (a neighbour that is also the adjacent leader), must not matter. k = 3 runs the
// direct loop, k = 10 the chunked one.
TEST(MixingTest, WeightedSumInPlace) {
  const int64_t n = 3001;
  for (const int k : {3, 10}) {
    std::vector<std::vector<float>> originals;
    for (int j = 0; j < k; ++j) originals.push_back(Cast<float>(RandomValues(n, 20 + j)));
    const std::vector<float> weights = Cast<float>(RandomValues(k, 30));
    std::unique_ptr<WeightedSumCpu> sum = Build<WeightedSumCpu>(k, n);
    ASSERT_NE(sum, nullptr);
    std::vector<int> distinct(k), repeated(k);
    for (int j = 0; j < k; ++j) distinct[j] = repeated[j] = j;
    repeated[2] = 0;
    // {which buffer feeds each input, which buffer is overwritten}.
    const std::vector<std::pair<std::vector<int>, int>> layouts = {
        {distinct, 0}, {distinct, k - 1}, {repeated, 0}};
    for (const auto& [sources, target] : layouts) {
      SCOPED_TRACE("k = " + std::to_string(k) + ", out is buffer " + std::to_string(target) +
                   (sources == repeated ? ", buffer 0 twice" : ""));
      std::vector<std::vector<float>> buffers = originals;
      std::vector<std::span<const float>> inputs;
      std::vector<std::vector<double>> inputs_ref;
      for (const int source : sources) {
        inputs.push_back(buffers[source]);
        inputs_ref.push_back(Cast<double>(originals[source]));
      }
      std::vector<double> expected(n);
      ref::WeightedSum<double>(Cast<double>(weights),
                               std::vector<std::span<const double>>(inputs_ref.begin(),
                                                                    inputs_ref.end()),
                               expected);
      ASSERT_TRUE(sum->Run(weights, inputs, buffers[target]).ok());
      EXPECT_TRUE(AllClose(Cast<double>(buffers[target]), expected, 1e-6, 1e-6));
    }
  }
}

TEST(MixingTest, AxpyWithItself) {
  std::vector<float> y = {1.f, -2.f, 3.f};
  std::unique_ptr<AxpyCpu> axpy = Build<AxpyCpu>(3);
  ASSERT_NE(axpy, nullptr);
  // y + 0.5·y = 1.5·y, exact.
  ASSERT_TRUE(axpy->Run(0.5f, y, y).ok());
  EXPECT_EQ(y, (std::vector<float>{1.5f, -3.f, 4.5f}));
}

void ExpectError(const absl::Status& status, const std::string& message) {
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(message), std::string::npos) << status;
}

TEST(MixingTest, BadCallsNameTheKernelAndSizes) {
  ExpectError(WeightedSumCpu::Create(0, 10).status(),
              "weighted sum: needs at least one input, got 0");
  ExpectError(WeightedSumCpu::Create(2, 0).status(),
              "weighted sum: length must be positive, got 0");
  ExpectError(AxpyCpu::Create(-1).status(), "axpy: length must be positive, got -1");
  ExpectError(ScaleCpu::Create(0).status(), "scale: length must be positive, got 0");

  std::unique_ptr<WeightedSumCpu> sum = Build<WeightedSumCpu>(2, 17);
  ASSERT_NE(sum, nullptr);
  std::vector<float> a(17), b(17), short_b(16), out(17), shared(40);
  const std::vector<float> two = {0.5f, 0.5f}, three = {0.2f, 0.3f, 0.5f};
  const std::vector<std::span<const float>> good = {a, b}, bad_length = {a, short_b};
  ExpectError(sum->Run(three, good, out),
              "weighted sum: got 3 weights and 2 inputs, the kernel was built for 2 inputs");
  ExpectError(sum->Run(two, bad_length, out),
              "weighted sum: input 1 has 16 floats, the kernel was built for 17");
  ExpectError(sum->Run(two, good, short_b),
              "weighted sum: out has 16 floats, the kernel was built for 17");
  const std::span<float> shifted_out = std::span(shared).subspan(3, 17);
  const std::vector<std::span<const float>> overlapping = {std::span(shared).first(17), b};
  ExpectError(sum->Run(two, overlapping, shifted_out),
              "weighted sum: input 0 and out partly overlap");

  std::unique_ptr<AxpyCpu> axpy = Build<AxpyCpu>(17);
  std::unique_ptr<ScaleCpu> scale = Build<ScaleCpu>(17);
  ASSERT_TRUE(axpy && scale);
  ExpectError(axpy->Run(1.f, short_b, out), "axpy: x has 16 floats, the kernel was built for 17");
  ExpectError(axpy->Run(1.f, a, short_b), "axpy: y has 16 floats, the kernel was built for 17");
  ExpectError(axpy->Run(1.f, std::span(shared).first(17), shifted_out),
              "axpy: x and y partly overlap");
  ExpectError(scale->Run(1.f, short_b), "scale: x has 16 floats, the kernel was built for 17");
}

}  // namespace
}  // namespace ald
