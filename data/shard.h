// Which examples each of W workers trains on: every epoch, one permutation of the dataset drawn
// from (seed, epoch) alone, hence the same on every worker, cut into W equal contiguous shards.
// Shards are therefore disjoint, and every worker takes the same number of steps per epoch.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ald {

// A uniformly random permutation of [0, count) from Rng(seed, 0, epoch, RngStream::kShuffle).
std::vector<int64_t> EpochPermutation(int64_t count, uint64_t seed, int64_t epoch);

struct ShardOptions {
  int64_t count = 0;  // examples in the dataset
  int num_workers = 1;
  int worker = 0;
  int64_t batch_size = 1;
  uint64_t seed = 0;
  bool shuffle = true;  // false: every epoch in dataset order
};

// Not thread-safe: it caches the current epoch's permutation.
class EpochShards {
 public:
  // `what` names the dataset in errors (too few examples for one batch per worker, and so on).
  static absl::StatusOr<EpochShards> Create(const ShardOptions& options, const std::string& what);

  // Examples per worker per epoch: count / num_workers, the remainder dropped (a different set
  // of examples each epoch, since the permutation changes).
  int64_t shard_size() const { return shard_size_; }
  // Whole batches in a shard; the shard's last partial batch is dropped too.
  int64_t steps_per_epoch() const { return shard_size_ / options_.batch_size; }

  // The dataset indices of this worker's batch `step` (< steps_per_epoch) of `epoch`; valid until
  // the next call with another epoch.
  std::span<const int64_t> BatchIndices(int64_t epoch, int64_t step);

 private:
  explicit EpochShards(const ShardOptions& options);

  ShardOptions options_;
  int64_t shard_size_;
  int64_t cached_epoch_ = -1;
  std::vector<int64_t> order_;  // cached_epoch_'s permutation
};

}  // namespace ald
