// A model's accuracy on a test set, whatever device runs it: the batching and counting that the
// CPU and the GPU worker models share.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "data/dataset.h"

namespace ald {

// Which part of a test set one evaluation covers: every count-th batch from batch `index`
// (data/eval_batches.h), so that the workers of one run can share an evaluation out and add up
// exactly the counts of the whole one.
struct EvalShard {
  int index = 0;
  int count = 1;
};
struct EvalCounts {
  int64_t correct = 0;
  int64_t total = 0;
  double accuracy() const { return static_cast<double>(correct) / static_cast<double>(total); }
};

// Fills `input` and `labels` (a batch of the evaluation model's shape) with each batch of `test`
// (of `shard`'s batches) in turn, calls `logits_of_batch` for the batch's logits ([batch,
// classes], on the host), and counts the real rows (the last batch is padded) and those whose
// largest logit is their label.
absl::StatusOr<EvalCounts> CountCorrectOnTest(
    const Dataset& test, Tensor& input, Tensor& labels, int64_t classes,
    const std::function<absl::StatusOr<std::span<const float>>()>& logits_of_batch,
    EvalShard shard = {});
// The accuracy on the whole of `test`.
absl::StatusOr<double> TestAccuracy(
    const Dataset& test, Tensor& input, Tensor& labels, int64_t classes,
    const std::function<absl::StatusOr<std::span<const float>>()>& logits_of_batch);

}  // namespace ald
