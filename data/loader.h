// Training batches for one worker of W: its own shard of a per-epoch permutation or of a fixed
// split (see shard.h, partition.h),
// normalised, optionally augmented, prepared ahead on a prefetch thread, written into the
// caller's tensors (the graph's input buffers), and resumable at any (epoch, step).
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "data/batch.h"
#include "data/dataset.h"
#include "data/partition.h"
#include "data/prefetch.h"
#include "data/shard.h"

namespace ald {

struct LoaderOptions {
  int64_t batch_size = 16;  // per worker
  int worker = 0;
  int num_workers = 1;
  uint64_t seed = 0;
  bool shuffle = true;
  // How the dataset is split among the workers (partition.h); the default reshuffles every epoch.
  PartitionSpec partition;
  // Random crop of the 4-pixel zero-padded image and horizontal flip (CIFAR-style), drawn from
  // Rng(seed, worker, global step, RngStream::kAugment).
  bool augment = false;
  // A thread prepares up to two batches ahead; without it Next writes straight into the tensors.
  bool prefetch = true;
};

// The batch that Next fills next; what a checkpoint stores to resume the data order.
struct LoaderPosition {
  int64_t epoch = 0;
  int64_t step_in_epoch = 0;
  bool operator==(const LoaderPosition&) const = default;
};

class BatchLoader {
 public:
  // `dataset` must outlive the loader.
  static absl::StatusOr<std::unique_ptr<BatchLoader>> Create(const Dataset& dataset,
                                                             const LoaderOptions& options,
                                                             LoaderPosition start = {});
  ~BatchLoader();

  // Identical on every worker; a partial last batch of each shard is dropped.
  int64_t steps_per_epoch() const { return shards_.steps_per_epoch(); }
  LoaderPosition position() const;

  // Fills `images` (f32 [B, C, H, W], CPU) and `labels` (i32 [B]) with the batch at position()
  // and moves on to the next one (into the next epoch after its last step).
  absl::Status Next(Tensor& images, Tensor& labels);

  // Continues from `position` exactly as an uninterrupted run would have (step_in_epoch <
  // steps_per_epoch()). Batches prefetched for the old position are dropped.
  absl::Status Seek(LoaderPosition position);

 private:
  BatchLoader(const Dataset& dataset, const LoaderOptions& options, EpochShards shards,
              BatchAssembler assembler);
  // Fills the batch of a global step (epoch * steps_per_epoch + step_in_epoch).
  absl::Status Produce(int64_t global_step, std::span<float> images, std::span<int32_t> labels);

  const Dataset& dataset_;
  const LoaderOptions options_;
  EpochShards shards_;  // used by whichever thread produces: the prefetcher's, or the caller's
  const BatchAssembler assembler_;
  int64_t next_step_ = 0;  // global step of the batch Next fills next
  std::unique_ptr<BatchPrefetcher> prefetcher_;
};

}  // namespace ald
