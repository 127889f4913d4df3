// AccuracyCuda against ops/ref/accuracy.h (ties to the lowest index), and its label and shape
// errors.
#include "ops/cuda/accuracy.h"

#include <vector>

#include "gtest/gtest.h"
#include "ops/cuda/cuda_testing.h"
#include "ops/error_testing.h"
#include "ops/ref/accuracy.h"
#include "ops/testing/op_testing.h"

namespace ald::cuda {
namespace {

using namespace ::ald::cuda::testing;  // NOLINT(build/namespaces): the test helpers

TEST(AccuracyCudaTest, CountsLikeTheReference) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  for (const auto& [rows, classes] :
       std::vector<std::pair<int64_t, int64_t>>{{33, 10}, {1000, 3}, {1, 1}}) {
    SCOPED_TRACE(::testing::Message() << rows << " x " << classes);
    auto logits = RoundedToFloat(RandomValues(rows * classes, 900 + rows));
    // Row 0 all equal: predicts class 0, as the reference's tie rule says.
    for (int64_t k = 0; k < classes; ++k) logits[k] = 0.5;
    std::vector<int32_t> labels = RandomLabels(rows, static_cast<int32_t>(classes), 950 + rows);
    labels[0] = 0;
    const int64_t expected = ref::CountCorrect<double>(classes, logits, labels);

    ALD_ASSERT_OK_AND_ASSIGN(auto op, AccuracyCuda::Create(*handles, {rows, classes}, {rows}));
    ALD_ASSERT_OK_AND_ASSIGN(auto logits_dev, Upload(logits));
    ALD_ASSERT_OK_AND_ASSIGN(auto labels_dev, DeviceBuffer<int32_t>::FromHost(labels));
    ALD_ASSERT_OK_AND_ASSIGN(AccuracyResult result,
                             op->Count(logits_dev.data(), labels_dev.data()));
    EXPECT_EQ(result.correct, expected);
    EXPECT_EQ(result.total, rows);
  }
}

TEST(AccuracyCudaTest, RejectsBadLabelsAndShapes) {
  SKIP_WITHOUT_CUDA();
  ALD_ASSERT_OK_AND_ASSIGN(auto handles, CudaHandles::Create());
  EXPECT_TRUE(FailsWith(AccuracyCuda::Create(*handles, {4}, {4}).status(),
                        "accuracy: logits must be f32 [N, K] with N, K >= 1"));
  ALD_ASSERT_OK_AND_ASSIGN(auto op, AccuracyCuda::Create(*handles, {2, 3}, {2}));
  ALD_ASSERT_OK_AND_ASSIGN(auto logits_dev, Upload(std::vector<double>(6, 0.0)));
  ALD_ASSERT_OK_AND_ASSIGN(auto labels_dev,
                           DeviceBuffer<int32_t>::FromHost(std::vector<int32_t>{0, 3}));
  EXPECT_TRUE(FailsWith(op->Count(logits_dev.data(), labels_dev.data()).status(),
                        "accuracy forward: labels[1] = 3 is outside [0, 3)"));
}

}  // namespace
}  // namespace ald::cuda
