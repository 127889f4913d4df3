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

// Fills `input` and `labels` (a batch of the evaluation model's shape) with each batch of `test`
// in turn, calls `logits_of_batch` for the batch's logits ([batch, classes], on the host), and
// counts the real rows (the last batch is padded) whose largest logit is their label.
absl::StatusOr<double> TestAccuracy(
    const Dataset& test, Tensor& input, Tensor& labels, int64_t classes,
    const std::function<absl::StatusOr<std::span<const float>>()>& logits_of_batch);

}  // namespace ald
