#include "data/shard.h"

#include <limits>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/rng.h"

namespace ald {

void Shuffle(std::span<int64_t> values, Rng& rng) {
  // Drawing with Below so every permutation is equally likely.
  for (size_t i = values.size(); i > 1; --i) {
    std::swap(values[i - 1], values[rng.Below(static_cast<uint32_t>(i))]);
  }
}

std::vector<int64_t> EpochPermutation(int64_t count, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(count);
  std::iota(order.begin(), order.end(), int64_t{0});
  Rng rng(seed, 0, static_cast<uint32_t>(epoch), RngStream::kShuffle);
  Shuffle(order, rng);
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
  for (int64_t index : options.own_examples) {
    if (index < 0 || index >= options.count) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": example ", index, " of worker ",
                                                     options.worker, "'s shard is outside [0, ",
                                                     options.count, ")"));
    }
  }
  return EpochShards(options);
}

EpochShards::EpochShards(const ShardOptions& options)
    : options_(options), shard_size_(options.count / options.num_workers) {}

void EpochShards::WalkOwnExamples(int64_t epoch) {
  const size_t epoch_size = static_cast<size_t>(steps_per_epoch() * options_.batch_size);
  Rng rng(options_.seed, static_cast<uint32_t>(options_.worker), static_cast<uint32_t>(epoch),
          RngStream::kShardOrder);
  order_.clear();
  while (order_.size() < epoch_size) {
    const size_t start = order_.size();
    order_.insert(order_.end(), options_.own_examples.begin(), options_.own_examples.end());
    if (options_.shuffle) Shuffle(std::span<int64_t>(order_).subspan(start), rng);
  }
  order_.resize(epoch_size);
}

std::span<const int64_t> EpochShards::BatchIndices(int64_t epoch, int64_t step) {
  const bool own = !options_.own_examples.empty();
  if (epoch != cached_epoch_) {
    if (own) {
      WalkOwnExamples(epoch);
    } else if (options_.shuffle) {
      order_ = EpochPermutation(options_.count, options_.seed, epoch);
    } else if (order_.empty()) {
      order_.resize(options_.count);
      std::iota(order_.begin(), order_.end(), int64_t{0});
    }
    cached_epoch_ = epoch;
  }
  // The shared permutation holds every worker's shard; a walk holds only this worker's.
  const int64_t begin = (own ? 0 : options_.worker * shard_size_) + step * options_.batch_size;
  return std::span<const int64_t>(order_).subspan(begin, options_.batch_size);
}

}  // namespace ald
