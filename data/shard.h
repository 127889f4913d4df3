// Which examples each of W workers trains on. By default, every epoch, one permutation of the
// dataset drawn from (seed, epoch) alone, hence the same on every worker, cut into W equal
// contiguous shards. Under a fixed split (partition.h) each worker walks its own examples.
// Either way every worker takes the same number of steps per epoch, floor(N / W / B), so the
// synchronous algorithms never wait for a worker that ran out of data.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ald {

class Rng;

// Fisher-Yates with `rng`: every order equally likely.
void Shuffle(std::span<int64_t> values, Rng& rng);

// A uniformly random permutation of [0, count) from Rng(seed, 0, epoch, RngStream::kShuffle).
std::vector<int64_t> EpochPermutation(int64_t count, uint64_t seed, int64_t epoch);

struct ShardOptions {
  int64_t count = 0;  // examples in the dataset
  int num_workers = 1;
  int worker = 0;
  int64_t batch_size = 1;
  uint64_t seed = 0;
  bool shuffle = true;  // false: every epoch in dataset order
  // This worker's examples for the whole run under a fixed split (partition.h); empty: the
  // reshuffled default. An epoch is then still floor(N / W / B) batches: the worker walks its
  // examples in an order drawn from (seed, worker, epoch), starting a fresh order whenever it
  // has used them all (a small shard is walked more than once per epoch, a large one is cut at
  // the epoch's end, a different part each epoch). Where the shard holds exactly an epoch's
  // worth (fixed, N / W a multiple of B), each example is used once per epoch.
  std::vector<int64_t> own_examples;
};

// Not thread-safe: it caches the current epoch's permutation.
class EpochShards {
 public:
  // `what` names the dataset in errors (too few examples for one batch per worker, and so on).
  static absl::StatusOr<EpochShards> Create(const ShardOptions& options, const std::string& what);

  // Examples per worker per epoch: count / num_workers, the remainder dropped (a different set
  // of examples each epoch, since the permutation changes), whatever the split.
  int64_t shard_size() const { return shard_size_; }
  // Whole batches in a shard; the shard's last partial batch is dropped too.
  int64_t steps_per_epoch() const { return shard_size_ / options_.batch_size; }

  // The dataset indices of this worker's batch `step` (< steps_per_epoch) of `epoch`; valid until
  // the next call with another epoch.
  std::span<const int64_t> BatchIndices(int64_t epoch, int64_t step);

 private:
  explicit EpochShards(const ShardOptions& options);
  // Fills order_ with `epoch`'s walk through options_.own_examples.
  void WalkOwnExamples(int64_t epoch);

  ShardOptions options_;
  int64_t shard_size_;
  int64_t cached_epoch_ = -1;
  std::vector<int64_t> order_;  // cached_epoch_'s permutation, or this worker's walk
};

}  // namespace ald
