#include "data/shard.h"

#include <limits>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/rng.h"

namespace ald {

std::vector<int64_t> EpochPermutation(int64_t count, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(count);
  std::iota(order.begin(), order.end(), int64_t{0});
  Rng rng(seed, 0, static_cast<uint32_t>(epoch), RngStream::kShuffle);
  // Fisher-Yates, drawing with Below so every permutation is equally likely.
  for (int64_t i = count - 1; i > 0; --i) {
    const int64_t j = rng.Below(static_cast<uint32_t>(i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

absl::StatusOr<EpochShards> EpochShards::Create(const ShardOptions& options,
                                                const std::string& what) {
  if (options.num_workers < 1 || options.worker < 0 || options.worker >= options.num_workers) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": worker ", options.worker,
                                                   " is outside [0, ", options.num_workers, ")"));
  }
  if (options.batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": batch size ", options.batch_size, " is not positive"));
  }
  if (options.count > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", options.count, " examples are more than a shuffle can index"));
  }
  const int64_t shard_size = options.count / options.num_workers;
  if (shard_size < options.batch_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", options.count, " examples give each of ", options.num_workers,
                     " workers ", shard_size, ", fewer than one batch of ", options.batch_size));
  }
  return EpochShards(options);
}

EpochShards::EpochShards(const ShardOptions& options)
    : options_(options), shard_size_(options.count / options.num_workers) {}

std::span<const int64_t> EpochShards::BatchIndices(int64_t epoch, int64_t step) {
  if (epoch != cached_epoch_) {
    if (options_.shuffle) {
      order_ = EpochPermutation(options_.count, options_.seed, epoch);
    } else if (order_.empty()) {
      order_.resize(options_.count);
      std::iota(order_.begin(), order_.end(), int64_t{0});
    }
    cached_epoch_ = epoch;
  }
  const int64_t begin = options_.worker * shard_size_ + step * options_.batch_size;
  return std::span<const int64_t>(order_).subspan(begin, options_.batch_size);
}

}  // namespace ald
