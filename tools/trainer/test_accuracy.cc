#include "tools/trainer/test_accuracy.h"

#include "core/status.h"
#include "data/eval_batches.h"
#include "ops/ref/accuracy.h"

namespace ald {

absl::StatusOr<EvalCounts> CountCorrectOnTest(
    const Dataset& test, Tensor& input, Tensor& labels, int64_t classes,
    const std::function<absl::StatusOr<std::span<const float>>()>& logits_of_batch,
    EvalShard shard) {
  ASSIGN_OR_RETURN(EvalBatches batches,
                   EvalBatches::Create(test, input.shape()[0], shard.index, shard.count));
  int64_t correct = 0, total = 0;
  while (true) {
    ASSIGN_OR_RETURN(int64_t real, batches.Next(input, labels));
    if (real == 0) break;
    ASSIGN_OR_RETURN(std::span<const float> logits, logits_of_batch());
    correct += ref::CountCorrect<float>(classes, logits.subspan(0, real * classes),
                                        std::as_const(labels).values<int32_t>().subspan(0, real));
    total += real;
  }
  return EvalCounts{correct, total};
}

absl::StatusOr<double> TestAccuracy(
    const Dataset& test, Tensor& input, Tensor& labels, int64_t classes,
    const std::function<absl::StatusOr<std::span<const float>>()>& logits_of_batch) {
  ASSIGN_OR_RETURN(const EvalCounts counts,
                   CountCorrectOnTest(test, input, labels, classes, logits_of_batch));
  return counts.accuracy();
}

}  // namespace ald
