// softmax_cross_entropy: the kernel against the reference (including huge logits), a
// hand-computed loss, and bad calls. Backward against finite differences: the op-case table
// (ops/testing/op_cases.h), whose every case ends in this loss.
#include "ops/ref/softmax_cross_entropy.h"

#include <cmath>

#include "ops/cpu/softmax_cross_entropy.h"
#include "ops/error_testing.h"
#include "ops/softmax_cross_entropy.h"
#include "ops/testing/op_testing.h"

namespace ald {
namespace {

using testing::AllClose;
using testing::F32Tensor;
using testing::FailsWith;
using testing::RandomValues;
using testing::ToDoubles;

struct Outputs {
  std::vector<double> log_probs, dlogits;
  double loss = 0;
};

// Runs the kernel's forward and backward (with dloss) on float logits and labels.
Outputs RunKernel(const Shape& shape, const Tensor& logits, const Tensor& labels, double dloss) {
  Outputs out;
  absl::StatusOr<std::unique_ptr<cpu::SoftmaxCrossEntropyCpu>> kernel =
      cpu::SoftmaxCrossEntropyCpu::Create(shape);
  EXPECT_TRUE(kernel.ok()) << kernel.status();
  if (!kernel.ok()) return out;
  Tensor log_probs = testing::ZerosF32(shape), loss = testing::ZerosF32(Shape{});
  Tensor dlogits = testing::ZerosF32(shape);
  const std::vector<double> dloss_value = {dloss};
  Tensor dloss_tensor = F32Tensor(Shape{}, dloss_value);
  EXPECT_TRUE((*kernel)->Forward(logits, labels, log_probs, loss).ok());
  EXPECT_TRUE((*kernel)->Backward(log_probs, labels, dloss_tensor, dlogits).ok());
  return {ToDoubles(log_probs), ToDoubles(dlogits), ToDoubles(loss)[0]};
}

TEST(SoftmaxCrossEntropyTest, KernelMatchesReference) {
  uint64_t seed = 1;
  for (const Shape& shape :
       {Shape{1, 1}, Shape{1, 10}, Shape{7, 3}, Shape{64, 10}, Shape{5, 1000}}) {
    for (double offset : {0.0, 1000.0}) {  // 1000: exp would overflow without the max shift
      SCOPED_TRACE(shape.ToString() + " offset " + std::to_string(offset));
      const int64_t rows = shape[0], classes = shape[1];
      std::vector<double> values = RandomValues(shape.num_elements(), seed++, -3.0, 3.0);
      for (double& v : values) v += offset;
      const Tensor logits = F32Tensor(shape, values);
      const std::vector<int32_t> labels = testing::RandomLabels(rows, classes, seed++);
      const Outputs kernel = RunKernel(shape, logits, testing::I32Tensor(Shape{rows}, labels), 0.7);

      std::vector<double> log_probs(shape.num_elements()), dlogits(shape.num_elements());
      ref::LogSoftmax<double>(classes, ToDoubles(logits), log_probs);
      const double loss = ref::CrossEntropyLoss<double>(classes, log_probs, labels);
      ref::SoftmaxCrossEntropyBackward<double>(classes, log_probs, labels, 0.7, dlogits);
      // oneDNN's vectorised exp/log are approximations: measured worst errors were 3.7e-6 on
      // log-probabilities (a one-class row gives 1.4e-6, not 0), 1.2e-6 on the loss and 3.3e-7
      // on dlogits (= (p - onehot) * 0.7 / N). The tolerances leave about 5x margin.
      EXPECT_TRUE(AllClose(kernel.log_probs, log_probs, 2e-5, 1e-5));
      const std::vector<double> kernel_loss = {kernel.loss}, ref_loss = {loss};
      EXPECT_TRUE(AllClose(kernel_loss, ref_loss, 2e-5, 1e-5));
      EXPECT_TRUE(AllClose(kernel.dlogits, dlogits, 2e-6, 1e-5));
    }
  }
}

// Row 0: logits [0, 0], label 0: softmax [1/2, 1/2], loss log 2. Row 1: [log 3, 0], label 1:
// softmax [3/4, 1/4], loss log 4. Mean: 1.5 log 2. dlogits (dloss 1, N 2): row 0
// [(1/2 - 1) / 2, 1/2 / 2] = [-1/4, 1/4]; row 1 [3/4 / 2, (1/4 - 1) / 2] = [3/8, -3/8].
TEST(SoftmaxCrossEntropyTest, HandComputedCase) {
  const Shape shape{2, 2};
  const std::vector<double> values = {0, 0, std::log(3.0), 0};
  const std::vector<int32_t> labels = {0, 1};
  const Outputs kernel =
      RunKernel(shape, F32Tensor(shape, values), testing::I32Tensor(Shape{2}, labels), 1.0);
  // oneDNN's approximate log/exp (measured 1.7e-6 here; see KernelMatchesReference): 1e-5.
  EXPECT_NEAR(kernel.loss, 1.5 * std::log(2.0), 1e-5);
  const std::vector<double> expected = {-0.25, 0.25, 0.375, -0.375};
  EXPECT_TRUE(AllClose(kernel.dlogits, expected, 2e-6, 0));
}

TEST(SoftmaxCrossEntropyTest, ShapeRuleErrorsNameTheShapes) {
  EXPECT_TRUE(FailsWith(
      SoftmaxCrossEntropyShape(Shape{2, 3, 4}, DType::kF32, Shape{2}, DType::kI32).status(),
      "softmax_cross_entropy: logits must be f32 [N, K] with N, K >= 1 (logits f32[2, 3, 4], "
      "labels i32[2])"));
  EXPECT_TRUE(FailsWith(
      SoftmaxCrossEntropyShape(Shape{4, 10}, DType::kF32, Shape{5}, DType::kI32).status(),
      "softmax_cross_entropy: labels must be i32 [4] (logits f32[4, 10], labels i32[5])"));
  EXPECT_TRUE(FailsWith(
      SoftmaxCrossEntropyShape(Shape{4, 10}, DType::kF32, Shape{4}, DType::kF32).status(),
      "softmax_cross_entropy: labels must be i32 [4] (logits f32[4, 10], labels f32[4])"));
  EXPECT_TRUE(FailsWith(cpu::SoftmaxCrossEntropyCpu::Create(Shape{0, 10}).status(),
                        "softmax_cross_entropy: logits must be f32 [N, K] with N, K >= 1"));
}

// A bad label is reported with its batch index and value before anything is written.
TEST(SoftmaxCrossEntropyTest, LabelOutOfRangeIsAnError) {
  const Shape shape{3, 4};
  absl::StatusOr<std::unique_ptr<cpu::SoftmaxCrossEntropyCpu>> kernel =
      cpu::SoftmaxCrossEntropyCpu::Create(shape);
  ASSERT_TRUE(kernel.ok());
  Tensor logits = F32Tensor(shape, RandomValues(12, 81));
  Tensor log_probs = testing::ZerosF32(shape), loss = testing::ZerosF32(Shape{});
  log_probs.Fill(7.0f);
  const std::vector<int32_t> too_big = {0, 4, 1}, negative = {0, 1, -1};
  EXPECT_TRUE(
      FailsWith((*kernel)->Forward(logits, testing::I32Tensor(Shape{3}, too_big), log_probs, loss),
                "softmax_cross_entropy forward: labels[1] = 4 is outside [0, 4)"));
  for (double value : ToDoubles(log_probs)) ASSERT_EQ(value, 7.0);
  Tensor dloss = testing::ZerosF32(Shape{}), dlogits = testing::ZerosF32(shape);
  EXPECT_TRUE(FailsWith(
      (*kernel)->Backward(log_probs, testing::I32Tensor(Shape{3}, negative), dloss, dlogits),
      "softmax_cross_entropy backward: labels[2] = -1 is outside [0, 4)"));
  EXPECT_TRUE(FailsWith(
      (*kernel)->Forward(logits, testing::I32Tensor(Shape{3}, negative), log_probs, dlogits),
      "softmax_cross_entropy forward: loss is f32[3, 4] cpu, expected f32[] cpu"));
}

}  // namespace
}  // namespace ald
