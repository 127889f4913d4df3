// SoftmaxCrossEntropyCuda against ops/ref/softmax_cross_entropy.h: log-probabilities, loss and
// gradient (including large logits), and the errors for bad labels and shapes.
#include "ops/cuda/softmax_cross_entropy.h"

#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/error_testing.h"
#include "ops/ref/softmax_cross_entropy.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

TEST(SoftmaxCrossEntropyCudaTest, MatchesReference) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  for (const auto& [rows, classes] :
       std::vector<std::pair<int64_t, int64_t>>{{7, 5}, {300, 10}, {1, 1}, {2, 1000}}) {
    SCOPED_TRACE(::testing::Message() << rows << " x " << classes);
    auto logits = RandomValues(rows * classes, 700 + rows, -3.0, 3.0);
    logits[0] = 80.0;  // exp(80) overflows float without the max shift
    logits = RoundedToFloat(logits);
    const std::vector<int32_t> labels =
        RandomLabels(rows, static_cast<int32_t>(classes), 800 + rows);
    std::vector<double> log_probs_ref(logits.size()), dlogits_ref(logits.size());
    ref::LogSoftmax<double>(classes, logits, log_probs_ref);
    const double loss_ref = ref::CrossEntropyLoss<double>(classes, log_probs_ref, labels);
    const double dloss = 0.5;
    ref::SoftmaxCrossEntropyBackward<double>(classes, log_probs_ref, labels, dloss, dlogits_ref);

    ALD_ASSERT_OK_AND_ASSIGN(auto op,
                             SoftmaxCrossEntropyCuda::Create(*handles, {rows, classes}, {rows}));
    ALD_ASSERT_OK_AND_ASSIGN(auto logits_dev, Upload(logits));
    ALD_ASSERT_OK_AND_ASSIGN(auto labels_dev, DeviceBuffer<int32_t>::FromHost(labels));
    ALD_ASSERT_OK_AND_ASSIGN(auto log_probs_dev, DeviceBuffer<float>::Create(rows * classes));
    ALD_ASSERT_OK_AND_ASSIGN(auto dlogits_dev, DeviceBuffer<float>::Create(rows * classes));
    ALD_ASSERT_OK_AND_ASSIGN(auto loss_dev, DeviceBuffer<float>::Create(1));
    ALD_ASSERT_OK(
        op->Forward(logits_dev.data(), labels_dev.data(), log_probs_dev.data(), loss_dev.data()));
    ALD_ASSERT_OK(op->Backward(log_probs_dev.data(), labels_dev.data(), static_cast<float>(dloss),
                               dlogits_dev.data()));
    ALD_ASSERT_OK(handles->Synchronize());
    ALD_ASSERT_OK_AND_ASSIGN(auto log_probs, Download(log_probs_dev));
    ALD_ASSERT_OK_AND_ASSIGN(auto loss, Download(loss_dev));
    ALD_ASSERT_OK_AND_ASSIGN(auto dlogits, Download(dlogits_dev));
    EXPECT_TRUE(AllClose(log_probs, log_probs_ref, 1e-5, 1e-5)) << "log-softmax";
    EXPECT_TRUE(AllClose(loss, std::vector<double>{loss_ref}, 1e-5, 1e-5)) << "loss";
    EXPECT_TRUE(AllClose(dlogits, dlogits_ref, 1e-6, 1e-5)) << "gradient";
  }
}

TEST(SoftmaxCrossEntropyCudaTest, RejectsBadLabelsAndShapes) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  EXPECT_TRUE(FailsWith(SoftmaxCrossEntropyCuda::Create(*handles, {4, 3}, {5}).status(),
                        "softmax_cross_entropy: labels must be i32 [4]"));
  EXPECT_TRUE(FailsWith(SoftmaxCrossEntropyCuda::Create(*handles, {4}, {4}).status(),
                        "softmax_cross_entropy: logits must be f32 [N, K]"));

  ALD_ASSERT_OK_AND_ASSIGN(auto op, SoftmaxCrossEntropyCuda::Create(*handles, {4, 3}, {4}));
  const std::vector<double> logits(12, 0.25);
  ALD_ASSERT_OK_AND_ASSIGN(auto logits_dev, Upload(logits));
  ALD_ASSERT_OK_AND_ASSIGN(auto log_probs_dev, DeviceBuffer<float>::Create(12));
  ALD_ASSERT_OK_AND_ASSIGN(auto loss_dev, DeviceBuffer<float>::Create(1));
  for (const auto& [labels, message] : std::vector<std::pair<std::vector<int32_t>, std::string>>{
           {{0, 2, 3, 1}, "softmax_cross_entropy forward: labels[2] = 3 is outside [0, 3)"},
           {{0, -1, 7, 1}, "softmax_cross_entropy forward: labels[1] = -1 is outside [0, 3)"}}) {
    ALD_ASSERT_OK_AND_ASSIGN(auto labels_dev, DeviceBuffer<int32_t>::FromHost(labels));
    EXPECT_TRUE(FailsWith(
        op->Forward(logits_dev.data(), labels_dev.data(), log_probs_dev.data(), loss_dev.data()),
        message));
  }
}

}  // namespace
}  // namespace ald::cuda
