#include "tools/trainer/test_accuracy.h"

#include "core/status.h"
#include "data/eval_batches.h"
#include "ops/ref/accuracy.h"

namespace ald {

absl::StatusOr<double> TestAccuracy(
    const Dataset& test, Tensor& input, Tensor& labels, int64_t classes,
    const std::function<absl::StatusOr<std::span<const float>>()>& logits_of_batch) {
  ASSIGN_OR_RETURN(EvalBatches batches, EvalBatches::Create(test, input.shape()[0]));
  int64_t correct = 0, total = 0;
  while (true) {
    ASSIGN_OR_RETURN(int64_t real, batches.Next(input, labels));
    if (real == 0) break;
    ASSIGN_OR_RETURN(std::span<const float> logits, logits_of_batch());
    correct += ref::CountCorrect<float>(classes, logits.subspan(0, real * classes),
                                        std::as_const(labels).values<int32_t>().subspan(0, real));
    total += real;
  }
  return static_cast<double>(correct) / static_cast<double>(total);
}

}  // namespace ald
