// SGD: hand-computed steps, PyTorch's first-step momentum semantics, the fused kernel against
// the reference (a transcription of torch.optim.SGD) on large odd-sized buffers, and bad calls.
#include "ops/sgd.h"

#include <cmath>
#include <string>
#include <vector>

#include "ops/ref/sgd.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using cpu::SgdConfig;
using cpu::SgdStep;
using testing::AllClose;
using testing::RandomValues;

// The same values in another floating-point type (Cast<float>: rounded to what kernels see).
template <typename To, typename From>
std::vector<To> Cast(const std::vector<From>& values) {
  return std::vector<To>(values.begin(), values.end());
}

// Two steps with lr 0.1, momentum 0.9, Nesterov, wd 0.1 from x = [1, -2, 0.5]:
//  step 1, g = [0.5, 0, -1]:
//    d = g + 0.1·x = [0.6, -0.2, -0.95];  buf = d (first step);  d + 0.9·buf = 1.9·d
//      = [1.14, -0.38, -1.805];  x = x - 0.1·that = [0.886, -1.962, 0.6805]
//  step 2, g = [0.1, 0.2, 0.3]:
//    d = g + 0.1·x = [0.1886, 0.0038, 0.36805]
//    buf = 0.9·[0.6, -0.2, -0.95] + d = [0.7286, -0.1762, -0.48695]
//    d + 0.9·buf = [0.84434, -0.15478, -0.070205];  x = [0.801566, -1.946522, 0.6875205]
// Tolerance: a few float operations on values of order 1 round to within ~1e-7.
TEST(SgdTest, HandComputedNesterovWithWeightDecay) {
  const SgdConfig config{.lr = 0.1f, .momentum = 0.9f, .nesterov = true, .weight_decay = 0.1f};
  std::vector<float> x = {1.f, -2.f, 0.5f}, buf(3, 0.f);
  const std::vector<float> g1 = {0.5f, 0.f, -1.f}, g2 = {0.1f, 0.2f, 0.3f};
  ASSERT_TRUE(SgdStep(config, x, g1, buf).ok());
  EXPECT_TRUE(AllClose(Cast<double>(x), std::vector<double>{0.886, -1.962, 0.6805}, 1e-6, 0));
  EXPECT_TRUE(AllClose(Cast<double>(buf), std::vector<double>{0.6, -0.2, -0.95}, 1e-6, 0));
  ASSERT_TRUE(SgdStep(config, x, g2, buf).ok());
  EXPECT_TRUE(
      AllClose(Cast<double>(buf), std::vector<double>{0.7286, -0.1762, -0.48695}, 1e-6, 0));
  EXPECT_TRUE(
      AllClose(Cast<double>(x), std::vector<double>{0.801566, -1.946522, 0.6875205}, 1e-6, 0));
}

// Values chosen so that every intermediate is a small dyadic number: the results are exact.
TEST(SgdTest, HandComputedHeavyBallAndPlain) {
  // lr 1, momentum 0.5, x = 1, g = 2 twice: buf = 2, x = -1; then buf = 0.5·2 + 2 = 3, x = -4.
  std::vector<float> x = {1.f}, buf = {0.f};
  const std::vector<float> g = {2.f};
  const SgdConfig heavy_ball{.lr = 1.f, .momentum = 0.5f};
  ASSERT_TRUE(SgdStep(heavy_ball, x, g, buf).ok());
  EXPECT_EQ(x[0], -1.f);
  EXPECT_EQ(buf[0], 2.f);
  ASSERT_TRUE(SgdStep(heavy_ball, x, g, buf).ok());
  EXPECT_EQ(x[0], -4.f);
  EXPECT_EQ(buf[0], 3.f);

  // No momentum (buffer empty): lr 0.5, wd 0.5, x = [1, 2], g = [0.5, -0.5]:
  // d = g + 0.5·x = [1, 0.5]; x = x - 0.5·d = [0.5, 1.75].
  std::vector<float> y = {1.f, 2.f};
  const std::vector<float> gy = {0.5f, -0.5f};
  ASSERT_TRUE(SgdStep({.lr = 0.5f, .weight_decay = 0.5f}, y, gy, {}).ok());
  EXPECT_EQ(y, (std::vector<float>{0.5f, 1.75f}));
}

struct Case {
  std::string name;
  SgdConfig config;
};

const std::vector<Case> kCases = {
    {"plain", {.lr = 0.1f}},
    {"plain+wd", {.lr = 0.1f, .weight_decay = 5e-4f}},
    {"heavy ball+wd", {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 5e-4f}},
    {"nesterov+wd", {.lr = 0.05f, .momentum = 0.9f, .nesterov = true, .weight_decay = 0.1f}},
};

// PyTorch creates the buffer on the first step as buf ← g (after weight decay). A zeroed buffer
// gives m·0 + g: exactly g, so buffer and parameters after one step must agree with the
// reference run on the same floats with the "no buffer yet" path. Tolerance: one float ulp
// (rtol 2^-23), only in case a build contracts the products into FMAs differently.
TEST(SgdTest, ZeroedBufferIsPyTorchFirstStep) {
  for (const Case& test_case : kCases) {
    SCOPED_TRACE(test_case.name);
    const SgdConfig& c = test_case.config;
    const int n = 33;
    std::vector<float> x = Cast<float>(RandomValues(n, 1)), x_ref = x, buf(n, 0.f), buf_ref;
    const std::vector<float> g = Cast<float>(RandomValues(n, 2));
    ASSERT_TRUE(SgdStep(c, x, g, buf).ok());
    ref::SgdStep<float>(c.lr, c.momentum, c.nesterov, c.weight_decay, x_ref, g, buf_ref);
    EXPECT_TRUE(AllClose(Cast<double>(x), Cast<double>(x_ref), 0, 0x1p-23));
    if (c.momentum != 0) {
      EXPECT_TRUE(AllClose(Cast<double>(buf), Cast<double>(buf_ref), 0, 0x1p-23));
    }
  }
}

// Several steps with fresh gradients against the double reference on the float inputs.
// Odd lengths hit the vector loop's tail. Tolerance: each step rounds ~6 float operations on
// values of order 1 (relative 6e-8 each); over 5 steps the drift stays well below 1e-5.
TEST(SgdTest, TrajectoryMatchesReference) {
  for (const int64_t n : {1, 17, 1000003}) {
    for (const Case& test_case : kCases) {
      SCOPED_TRACE(test_case.name + ", n = " + std::to_string(n));
      const SgdConfig& c = test_case.config;
      std::vector<float> x = Cast<float>(RandomValues(n, 3)), buf(n, 0.f);
      std::vector<double> x_ref = Cast<double>(x), buf_ref;
      for (int step = 0; step < 5; ++step) {
        const std::vector<float> g = Cast<float>(RandomValues(n, 10 + step));
        ASSERT_TRUE(SgdStep(c, x, g, buf).ok());
        ref::SgdStep<double>(c.lr, c.momentum, c.nesterov, c.weight_decay, x_ref, Cast<double>(g),
                             buf_ref);
      }
      EXPECT_TRUE(AllClose(Cast<double>(x), x_ref, 1e-5, 1e-5));
      if (c.momentum != 0) {
        EXPECT_TRUE(AllClose(Cast<double>(buf), buf_ref, 1e-5, 1e-5));
      }
    }
  }
}

// Adapt-with-combine folds the weight decay into the gradient before x is replaced, then steps
// without it: that must be SgdStep with the decay, bit for bit, for every momentum kind.
TEST(SgdTest, FoldedWeightDecayEqualsTheFusedStepBitwise) {
  for (const int64_t n : {1, 17, 100003}) {
    for (const Case& test_case : kCases) {
      SCOPED_TRACE(test_case.name + ", n = " + std::to_string(n));
      SgdConfig with_decay = test_case.config;
      with_decay.weight_decay = 0.05f;
      SgdConfig without_decay = with_decay;
      without_decay.weight_decay = 0;
      const std::vector<float> x0 = Cast<float>(RandomValues(n, 5));
      std::vector<float> fused = x0, folded = x0, fused_buf(n, 0.f), folded_buf(n, 0.f);
      for (int step = 0; step < 3; ++step) {
        const std::vector<float> g = Cast<float>(RandomValues(n, 20 + step));
        std::vector<float> g_folded = g;
        ASSERT_TRUE(SgdStep(with_decay, fused, g, fused_buf).ok());
        ASSERT_TRUE(cpu::AddWeightDecay(with_decay.weight_decay, folded, g_folded).ok());
        EXPECT_NE(g_folded, g);
        ASSERT_TRUE(SgdStep(without_decay, folded, g_folded, folded_buf).ok());
      }
      EXPECT_EQ(fused, folded);
      EXPECT_EQ(fused_buf, folded_buf);
      EXPECT_NE(fused, x0);
    }
  }
}

void ExpectError(const absl::Status& status, const std::string& message) {
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(message), std::string::npos) << status;
}

TEST(SgdTest, BadConfigsNameTheField) {
  std::vector<float> x(3), g(3), buf(3);
  ExpectError(SgdStep({.lr = -1.f}, x, g, buf), "sgd: lr must be >= 0, got -1");
  ExpectError(SgdStep({.lr = NAN}, x, g, buf), "sgd: lr must be >= 0, got nan");
  ExpectError(SgdStep({.momentum = 1.f}, x, g, buf), "sgd: momentum must be in [0, 1), got 1");
  ExpectError(SgdStep({.momentum = -0.5f}, x, g, buf), "momentum must be in [0, 1), got -0.5");
  ExpectError(SgdStep({.nesterov = true}, x, g, buf), "sgd: nesterov requires momentum > 0");
  ExpectError(SgdStep({.weight_decay = -0.5f}, x, g, buf),
              "sgd: weight_decay must be >= 0, got -0.5");
  EXPECT_TRUE(cpu::ValidateSgdConfig({.lr = 0.f, .momentum = 0.99f, .nesterov = true}).ok());
}

TEST(SgdTest, BadBuffersNameTheSizes) {
  std::vector<float> x(3), g(4), buf(2);
  ExpectError(SgdStep({}, x, g, buf), "sgd: grads has 4 floats, params has 3");
  ExpectError(SgdStep({.momentum = 0.9f}, x, std::span(g).first(3), buf),
              "sgd: momentum buffer has 2 floats, params has 3 (momentum is 0.9)");
  // Without momentum the buffer is not used, so an empty one is fine.
  EXPECT_TRUE(SgdStep({}, x, std::span(g).first(3), {}).ok());
  std::vector<float> shared(6);
  ExpectError(SgdStep({}, std::span(shared).first(3), std::span(shared).subspan(2, 3), {}),
              "sgd: params, grads and momentum buffer overlap");
  ExpectError(cpu::AddWeightDecay(0.1f, x, g), "sgd: grads has 4 floats, params has 3");
  ExpectError(cpu::AddWeightDecay(-1.f, x, std::span(g).first(3)),
              "sgd: weight_decay must be >= 0, got -1");
  ExpectError(cpu::AddWeightDecay(0.1f, std::span(shared).first(3),
                                  std::span(shared).subspan(2, 3)),
              "sgd: params, grads and momentum buffer overlap");
}

}  // namespace
}  // namespace ald
