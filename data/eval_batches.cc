#include "data/eval_batches.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace ald {

absl::StatusOr<EvalBatches> EvalBatches::Create(const Dataset& dataset, int64_t batch_size) {
  if (batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(dataset.name, ": evaluation batch size ", batch_size, " is not positive"));
  }
  ASSIGN_OR_RETURN(BatchAssembler assembler, BatchAssembler::Create(dataset));
  return EvalBatches(dataset, batch_size, std::move(assembler));
}

EvalBatches::EvalBatches(const Dataset& dataset, int64_t batch_size, BatchAssembler assembler)
    : dataset_(&dataset), batch_size_(batch_size), assembler_(std::move(assembler)) {}

absl::StatusOr<int64_t> EvalBatches::Next(Tensor& images, Tensor& labels) {
  RETURN_IF_ERROR(CheckBatchTensors(*dataset_, batch_size_, images, labels));
  const int64_t size = std::min(batch_size_, dataset_->count - next_example_);
  if (size <= 0) return 0;
  indices_.resize(size);
  std::iota(indices_.begin(), indices_.end(), next_example_);
  assembler_.Assemble(indices_, nullptr, images.values<float>(), labels.values<int32_t>());
  const int64_t image_floats = size * dataset_->image_bytes();
  std::fill(images.values<float>().begin() + image_floats, images.values<float>().end(), 0.0f);
  std::fill(labels.values<int32_t>().begin() + size, labels.values<int32_t>().end(), 0);
  next_example_ += size;
  return size;
}

}  // namespace ald
