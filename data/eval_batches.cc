#include "data/eval_batches.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace ald {

absl::StatusOr<EvalBatches> EvalBatches::Create(const Dataset& dataset, int64_t batch_size,
                                                int shard_index, int shard_count) {
  if (batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(dataset.name, ": evaluation batch size ", batch_size, " is not positive"));
  }
  if (shard_count < 1 || shard_index < 0 || shard_index >= shard_count) {
    return absl::InvalidArgumentError(absl::StrCat(dataset.name, ": evaluation shard ",
                                                   shard_index, " of ", shard_count,
                                                   ": expected an index in [0, count)"));
  }
  ASSIGN_OR_RETURN(BatchAssembler assembler, BatchAssembler::Create(dataset));
  return EvalBatches(dataset, batch_size, shard_index, shard_count, std::move(assembler));
}

EvalBatches::EvalBatches(const Dataset& dataset, int64_t batch_size, int shard_index,
                         int shard_count, BatchAssembler assembler)
    : dataset_(&dataset),
      batch_size_(batch_size),
      shard_index_(shard_index),
      shard_count_(shard_count),
      assembler_(std::move(assembler)),
      next_batch_(shard_index) {}

absl::StatusOr<int64_t> EvalBatches::Next(Tensor& images, Tensor& labels) {
  RETURN_IF_ERROR(CheckBatchTensors(*dataset_, batch_size_, images, labels));
  const int64_t first = next_batch_ * batch_size_;
  const int64_t size = std::min(batch_size_, dataset_->count - first);
  if (size <= 0) return 0;
  indices_.resize(size);
  std::iota(indices_.begin(), indices_.end(), first);
  assembler_.Assemble(indices_, nullptr, images.values<float>(), labels.values<int32_t>());
  const int64_t image_floats = size * dataset_->image_bytes();
  std::fill(images.values<float>().begin() + image_floats, images.values<float>().end(), 0.0f);
  std::fill(labels.values<int32_t>().begin() + size, labels.values<int32_t>().end(), 0);
  next_batch_ += shard_count_;
  return size;
}

}  // namespace ald
