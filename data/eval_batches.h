// Evaluation batches: the whole dataset in order, normalised, never augmented or shuffled; the
// last batch may be partial, and Next says how many of its rows are real.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "data/batch.h"
#include "data/dataset.h"

namespace ald {

class EvalBatches {
 public:
  // `dataset` must outlive the iterator.
  static absl::StatusOr<EvalBatches> Create(const Dataset& dataset, int64_t batch_size);

  int64_t num_batches() const { return (dataset_->count + batch_size_ - 1) / batch_size_; }

  // Fills the next batch into `images` (f32 [B, C, H, W]) and `labels` (i32 [B]) and returns
  // its real size; rows past it are zeros with label 0, so a kernel reading them stays in
  // bounds. Returns 0 once the dataset is exhausted.
  absl::StatusOr<int64_t> Next(Tensor& images, Tensor& labels);
  void Restart() { next_example_ = 0; }

 private:
  EvalBatches(const Dataset& dataset, int64_t batch_size, BatchAssembler assembler);

  const Dataset* dataset_;
  int64_t batch_size_;
  BatchAssembler assembler_;
  int64_t next_example_ = 0;
  std::vector<int64_t> indices_;  // of the current batch
};

}  // namespace ald
