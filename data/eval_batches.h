// Evaluation batches: the whole dataset in order, normalised, never augmented or shuffled; the
// last batch may be partial, and Next says how many of its rows are real. A shard takes every
// shard_count-th batch of that same sequence, so the shards' batches together are exactly the
// whole evaluation's, each holding the same examples.
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
  // `dataset` must outlive the iterator. Shard `shard_index` of `shard_count` gets the batches
  // b with b % shard_count == shard_index (InvalidArgument for an index outside [0, count)).
  static absl::StatusOr<EvalBatches> Create(const Dataset& dataset, int64_t batch_size,
                                            int shard_index = 0, int shard_count = 1);

  // Of the whole sequence, not of this shard.
  int64_t num_batches() const { return (dataset_->count + batch_size_ - 1) / batch_size_; }

  // Fills the next batch into `images` (f32 [B, C, H, W]) and `labels` (i32 [B]) and returns
  // its real size; rows past it are zeros with label 0, so a kernel reading them stays in
  // bounds. Returns 0 once the dataset is exhausted.
  absl::StatusOr<int64_t> Next(Tensor& images, Tensor& labels);
  void Restart() { next_batch_ = shard_index_; }

 private:
  EvalBatches(const Dataset& dataset, int64_t batch_size, int shard_index, int shard_count,
              BatchAssembler assembler);

  const Dataset* dataset_;
  int64_t batch_size_;
  int shard_index_, shard_count_;
  BatchAssembler assembler_;
  int64_t next_batch_;
  std::vector<int64_t> indices_;  // of the current batch
};

}  // namespace ald
