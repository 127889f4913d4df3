// Linear: the shape rule's errors, the reference backward against finite differences, and the
// oneDNN inner-product kernel (forward and both backward passes) against the reference.
#include "ops/linear.h"

#include "ops/cpu/linear.h"
#include "ops/ref/linear.h"
#include "ops/error_testing.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::AllClose;
using testing::F32Tensor;
using testing::RandomValues;
using testing::ToDoubles;
using testing::ZerosF32;

struct LinearCase {
  Shape input, weight;
  bool bias;
};

// Tolerances: the float kernel sums `length` products of values in [-1, 1] in its own order;
// rounding error grows at worst linearly in the length: atol 1e-6 per term, rtol 1e-4.
constexpr double kRtol = 1e-4;
double Atol(int64_t length) { return 1e-6 * static_cast<double>(length); }

TEST(LinearTest, KernelMatchesReference) {
  const std::vector<LinearCase> cases = {
      {Shape{1, 7}, Shape{3, 7}, true},        // batch 1, odd sizes
      {Shape{5, 64}, Shape{10, 64}, true},     // the classifier head of ResNet-20
      {Shape{16, 33}, Shape{17, 33}, false},   // odd, no bias
      {Shape{128, 256}, Shape{64, 256}, true}, // large enough for blocked weights
  };
  uint64_t seed = 20;
  for (const LinearCase& c : cases) {
    SCOPED_TRACE(c.input.ToString() + " x " + c.weight.ToString() + (c.bias ? " bias" : ""));
    absl::StatusOr<LinearShapes> shapes = InferLinear(c.input, c.weight);
    ASSERT_TRUE(shapes.ok()) << shapes.status();
    const ref::LinearDims d = RefDims(*shapes);
    Tensor x = F32Tensor(c.input, RandomValues(c.input.num_elements(), seed += 10));
    Tensor w = F32Tensor(c.weight, RandomValues(c.weight.num_elements(), seed + 1));
    Tensor b = F32Tensor(shapes->bias, RandomValues(shapes->bias.num_elements(), seed + 2));
    Tensor dy = F32Tensor(shapes->output, RandomValues(shapes->output.num_elements(), seed + 3));
    Tensor y = ZerosF32(shapes->output), dx = ZerosF32(c.input), dw = ZerosF32(c.weight);
    Tensor db = ZerosF32(shapes->bias);
    absl::StatusOr<std::unique_ptr<cpu::LinearCpu>> kernel =
        cpu::LinearCpu::Create(c.input, c.weight, LinearAttrs{c.bias});
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    ASSERT_TRUE((*kernel)->Forward(x, w, b, y).ok());
    ASSERT_TRUE((*kernel)->BackwardData(dy, w, dx).ok());
    ASSERT_TRUE((*kernel)->BackwardWeights(x, dy, dw, db).ok());

    const std::vector<double> xs = ToDoubles(x), ws = ToDoubles(w), dys = ToDoubles(dy);
    const std::vector<double> bs = c.bias ? ToDoubles(b) : std::vector<double>();
    std::vector<double> y_ref(y.num_elements()), dx_ref(dx.num_elements()),
        dw_ref(dw.num_elements()), db_ref(c.bias ? db.num_elements() : 0);
    ref::LinearForward<double>(d, xs, ws, bs, y_ref);
    ref::LinearBackwardData<double>(d, dys, ws, dx_ref);
    ref::LinearBackwardWeights<double>(d, xs, dys, dw_ref, db_ref);
    EXPECT_TRUE(AllClose(ToDoubles(y), y_ref, Atol(d.in_features), kRtol)) << "forward";
    EXPECT_TRUE(AllClose(ToDoubles(dx), dx_ref, Atol(d.out_features), kRtol)) << "dx";
    EXPECT_TRUE(AllClose(ToDoubles(dw), dw_ref, Atol(d.batch), kRtol)) << "dw";
    if (c.bias) {
      EXPECT_TRUE(AllClose(ToDoubles(db), db_ref, Atol(d.batch), kRtol)) << "db";
    }
  }
}

// Linear in each argument, so central differences are exact up to rounding: tolerance 1e-7.
TEST(LinearTest, ReferenceBackwardMatchesFiniteDifferences) {
  const ref::LinearDims d{3, 5, 4};
  const std::vector<std::vector<double>> inputs = {
      RandomValues(d.batch * d.in_features, 1), RandomValues(d.out_features * d.in_features, 2),
      RandomValues(d.out_features, 3)};
  const std::vector<double> upstream = RandomValues(d.batch * d.out_features, 4);
  std::vector<double> dx(inputs[0].size()), dw(inputs[1].size()), db(inputs[2].size());
  ref::LinearBackwardData<double>(d, upstream, inputs[1], dx);
  ref::LinearBackwardWeights<double>(d, inputs[0], upstream, dw, db);
  auto f = [&](const std::vector<std::vector<double>>& in) {
    std::vector<double> y(d.batch * d.out_features);
    ref::LinearForward<double>(d, in[0], in[1], in[2], y);
    return y;
  };
  EXPECT_TRUE(testing::CheckGradients(f, inputs, upstream, {dx, dw, db}, {0, 1, 2}, 1e-6, 1e-7,
                                      1e-7));
}

void ExpectError(const absl::Status& status, const std::string& expected) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(testing::FailsWith(status, expected));
}

TEST(LinearTest, ShapeRuleNamesTheOpAndShapes) {
  ExpectError(InferLinear(Shape{8, 64}, Shape{10, 32}).status(),
              "linear: input has 64 features, weight expects 32 (input [8, 64], weight [10, 32])");
  ExpectError(InferLinear(Shape{8, 4, 4}, Shape{10, 16}).status(),
              "linear: input has rank 3, expected 2 (N, in) (input [8, 4, 4], weight [10, 16])");
  ExpectError(InferLinear(Shape{8, 16}, Shape{16}).status(), "weight has rank 1");
  ExpectError(InferLinear(Shape{8, 16}, Shape{0, 16}).status(),
              "linear: every extent must be >= 1 (input [8, 16], weight [0, 16])");
  absl::StatusOr<LinearShapes> shapes = InferLinear(Shape{8, 16}, Shape{10, 16});
  ASSERT_TRUE(shapes.ok());
  EXPECT_EQ(shapes->output, (Shape{8, 10}));
  EXPECT_EQ(shapes->bias, (Shape{10}));
}

TEST(LinearTest, KernelRejectsBadShapesAndTensors) {
  ExpectError(cpu::LinearCpu::Create(Shape{8, 64}, Shape{10, 32}, {}).status(),
              "linear: input has 64 features");
  auto kernel = cpu::LinearCpu::Create(Shape{4, 6}, Shape{3, 6}, {});
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  Tensor x = ZerosF32(Shape{4, 6}), w = ZerosF32(Shape{3, 6}), b = ZerosF32(Shape{3});
  Tensor y = ZerosF32(Shape{4, 3}), wrong = ZerosF32(Shape{6, 4});
  ExpectError((*kernel)->Forward(wrong, w, b, y),
              "linear forward: x is f32[6, 4] cpu, expected f32[4, 6] cpu");
  ExpectError((*kernel)->BackwardData(y, w, wrong),
              "linear backward data: dx is f32[6, 4] cpu, expected f32[4, 6] cpu");
  Tensor undefined;
  ExpectError((*kernel)->BackwardWeights(x, y, w, undefined),
              "linear backward weights: db is undefined");
}

}  // namespace
}  // namespace ald
