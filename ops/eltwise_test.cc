// Every registered element-wise function (ops/eltwise), with no per-function code: its reference
// backward against finite differences of its forward, and EltwiseCpu against the reference in
// plain and blocked layouts and in place. Relu also against ReluCpu, bit for bit (the fused
// ReLUs' kernel), as the old relu op's kernel was.
#include <cmath>

#include "ops/cpu/eltwise.h"
#include "ops/cpu/relu.h"
#include "ops/eltwise/registry.h"
#include "ops/error_testing.h"
#include "ops/testing/layout_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::AllClose;
using testing::F32Tensor;
using testing::RandomValues;
using testing::RoundedToFloat;
using testing::ToDoubles;

std::vector<double> Apply(double (*f)(double), std::span<const double> x) {
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = f(x[i]);
  return y;
}

std::vector<double> Backward(const eltwise::Function& f, std::span<const double> x,
                             std::span<const double> dy) {
  const std::vector<double> saved =
      f.saved == eltwise::Saved::kOutput ? Apply(f.forward, x) : std::vector(x.begin(), x.end());
  std::vector<double> dx(x.size());
  for (size_t i = 0; i < x.size(); ++i) dx[i] = f.backward(saved[i], dy[i]);
  return dx;
}

TEST(EltwiseTest, ReluIsRegistered) {
  const eltwise::Function* relu = eltwise::Find("relu");
  ASSERT_NE(relu, nullptr);
  EXPECT_EQ(relu->saved, eltwise::Saved::kOutput);
  EXPECT_EQ(eltwise::Find("no such function"), nullptr);
}

TEST(EltwiseTest, ReferenceBackwardMatchesFiniteDifferences) {
  constexpr double kStep = 1e-6;
  for (const std::string& name : eltwise::Names()) {
    SCOPED_TRACE(name);
    const eltwise::Function& f = *eltwise::Find(name);
    std::vector<double> x = RandomValues(64, 1, -3, 3);
    for (double& v : x) v = std::abs(v) < 1e-3 ? 0.5 : v;  // away from kinks at 0
    const std::vector<double> dy = RandomValues(64, 2);
    std::vector<double> numeric(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      numeric[i] = dy[i] * (f.forward(x[i] + kStep) - f.forward(x[i] - kStep)) / (2 * kStep);
    }
    EXPECT_TRUE(AllClose(Backward(f, x, dy), numeric, 1e-6, 1e-6));
  }
}

TEST(EltwiseTest, CpuKernelMatchesReferenceInEveryLayoutAndInPlace) {
  for (const std::string& name : eltwise::Names()) {
    const eltwise::Function& f = *eltwise::Find(name);
    // The blocked entries: nChw16c and nChw8c.
    for (const auto& [shape, layout] :
         {std::pair{Shape{3, 7}, cpu::ActivationLayout::kPlain},
          std::pair{Shape{2, 16, 5, 7}, cpu::ActivationLayout::kPlain},
          std::pair{Shape{2, 32, 3, 5}, cpu::ActivationLayout::kBlocked16},
          std::pair{Shape{2, 32, 3, 5}, cpu::ActivationLayout::kBlocked8}}) {
      SCOPED_TRACE(name + " " + shape.ToString() + " " + cpu::LayoutName(layout));
      const int64_t n = shape.num_elements();
      const std::vector<double> x = RoundedToFloat(RandomValues(n, 3, -3, 3));
      const std::vector<double> dy = RoundedToFloat(RandomValues(n, 4));
      const bool blocked = layout != cpu::ActivationLayout::kPlain;
      auto in_layout = [&](const std::vector<double>& v) {
        const Tensor t = F32Tensor(shape, v);
        return blocked ? testing::ToLayout(t, layout) : t;
      };
      auto plain = [&](const Tensor& t) {
        return ToDoubles(blocked ? testing::FromLayout(t, layout) : t);
      };
      absl::StatusOr<std::unique_ptr<cpu::EltwiseCpu>> created =
          cpu::EltwiseCpu::Create(f, shape, layout);
      ASSERT_TRUE(created.ok()) << created.status();
      cpu::EltwiseCpu* kernel = created->get();
      Tensor y = in_layout(x);  // in place: y starts as x
      ASSERT_TRUE(kernel->Forward(y, y).ok());
      EXPECT_TRUE(AllClose(plain(y), Apply(f.forward, x), 1e-6, 1e-5));
      const Tensor saved = f.saved == eltwise::Saved::kOutput ? y : in_layout(x);
      Tensor dx = in_layout(dy);  // in place: dx starts as dy
      ASSERT_TRUE(kernel->Backward(saved, dx, dx).ok());
      EXPECT_TRUE(AllClose(plain(dx), Backward(f, x, dy), 1e-6, 1e-5));
    }
  }
}

TEST(EltwiseTest, ReluGivesReluCpusBits) {
  const Shape shape{2, 16, 5, 7};
  const int64_t n = shape.num_elements();
  const Tensor x = F32Tensor(shape, RandomValues(n, 5));
  const Tensor dy = F32Tensor(shape, RandomValues(n, 6));
  absl::StatusOr<std::unique_ptr<cpu::EltwiseCpu>> generic =
      cpu::EltwiseCpu::Create(*eltwise::Find("relu"), shape);
  absl::StatusOr<std::unique_ptr<cpu::ReluCpu>> relu = cpu::ReluCpu::Create(shape);
  ASSERT_TRUE(generic.ok()) << generic.status();
  ASSERT_TRUE(relu.ok()) << relu.status();
  Tensor y1 = testing::ZerosF32(shape), y2 = testing::ZerosF32(shape);
  Tensor dx1 = testing::ZerosF32(shape), dx2 = testing::ZerosF32(shape);
  ASSERT_TRUE((*generic)->Forward(x, y1).ok());
  ASSERT_TRUE((*relu)->Forward(x, y2).ok());
  ASSERT_TRUE((*generic)->Backward(y1, dy, dx1).ok());
  ASSERT_TRUE((*relu)->Backward(y2, dy, dx2).ok());
  EXPECT_TRUE(AllClose(ToDoubles(y1), ToDoubles(y2), 0, 0));
  EXPECT_TRUE(AllClose(ToDoubles(dx1), ToDoubles(dx2), 0, 0));
}

TEST(EltwiseTest, CreateRejectsABadBlockedShape) {
  // 24 channels are whole nChw8c blocks but not nChw16c ones; 12 are neither.
  EXPECT_TRUE(testing::FailsWith(
      cpu::EltwiseCpu::Create(*eltwise::Find("relu"), Shape{2, 24, 3, 3},
                              cpu::ActivationLayout::kBlocked16)
          .status(),
      "relu"));
  EXPECT_TRUE(testing::FailsWith(
      cpu::EltwiseCpu::Create(*eltwise::Find("relu"), Shape{2, 12, 3, 3},
                              cpu::ActivationLayout::kBlocked8)
          .status(),
      "relu: layout nChw8c needs channels a multiple of 8, got [2, 12, 3, 3]"));
}

}  // namespace
}  // namespace ald
