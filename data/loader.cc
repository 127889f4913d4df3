#include "data/loader.h"

#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/rng.h"
#include "core/status.h"

namespace ald {

absl::StatusOr<std::unique_ptr<BatchLoader>> BatchLoader::Create(const Dataset& dataset,
                                                                 const LoaderOptions& options,
                                                                 LoaderPosition start) {
  ShardOptions shard_options{.count = dataset.count,
                             .num_workers = options.num_workers,
                             .worker = options.worker,
                             .batch_size = options.batch_size,
                             .seed = options.seed,
                             .shuffle = options.shuffle,
                             .own_examples = {}};
  if (options.partition.kind != PartitionKind::kReshuffle) {
    // Every worker computes the whole split (a pure function of the seed) and keeps its part.
    absl::StatusOr<std::vector<std::vector<int64_t>>> split =
        PartitionExamples(dataset.labels, dataset.num_classes, options.num_workers, options.seed,
                          options.partition, options.batch_size);
    if (!split.ok()) {
      return absl::Status(split.status().code(),
                          absl::StrCat(dataset.name, ": ", split.status().message()));
    }
    if (options.worker < 0 || options.worker >= static_cast<int>(split->size())) {
      return absl::InvalidArgumentError(absl::StrCat(dataset.name, ": worker ", options.worker,
                                                     " is outside [0, ", split->size(), ")"));
    }
    shard_options.own_examples = std::move((*split)[options.worker]);
  }
  ASSIGN_OR_RETURN(EpochShards shards, EpochShards::Create(shard_options, dataset.name));
  ASSIGN_OR_RETURN(BatchAssembler assembler, BatchAssembler::Create(dataset));
  std::unique_ptr<BatchLoader> loader(
      new BatchLoader(dataset, options, std::move(shards), std::move(assembler)));
  RETURN_IF_ERROR(loader->Seek(start));
  return loader;
}

BatchLoader::BatchLoader(const Dataset& dataset, const LoaderOptions& options, EpochShards shards,
                         BatchAssembler assembler)
    : dataset_(dataset),
      options_(options),
      shards_(std::move(shards)),
      assembler_(std::move(assembler)) {}

// The prefetcher's thread uses shards_; it must stop before they go.
BatchLoader::~BatchLoader() { prefetcher_.reset(); }

LoaderPosition BatchLoader::position() const {
  return {next_step_ / steps_per_epoch(), next_step_ % steps_per_epoch()};
}

absl::Status BatchLoader::Seek(LoaderPosition position) {
  const int64_t steps = steps_per_epoch();
  // Global steps key the augmentation stream, a 32-bit counter word.
  const int64_t max_epoch = std::numeric_limits<uint32_t>::max() / steps;
  if (position.epoch < 0 || position.epoch >= max_epoch || position.step_in_epoch < 0 ||
      position.step_in_epoch >= steps) {
    return absl::InvalidArgumentError(absl::StrCat(
        dataset_.name, ": cannot seek to epoch ", position.epoch, " step ", position.step_in_epoch,
        "; epochs are in [0, ", max_epoch, "), steps in [0, ", steps, ")"));
  }
  prefetcher_.reset();  // joins the thread before shards_ changes hands
  next_step_ = position.epoch * steps + position.step_in_epoch;
  if (options_.prefetch) {
    prefetcher_ = std::make_unique<BatchPrefetcher>(
        [this](int64_t step, std::span<float> images, std::span<int32_t> labels) {
          return Produce(step, images, labels);
        },
        next_step_, options_.batch_size * dataset_.image_bytes(), options_.batch_size);
  }
  return absl::OkStatus();
}

absl::Status BatchLoader::Next(Tensor& images, Tensor& labels) {
  RETURN_IF_ERROR(CheckBatchTensors(dataset_, options_.batch_size, images, labels));
  if (prefetcher_ != nullptr) {
    RETURN_IF_ERROR(prefetcher_->Next(images.values<float>(), labels.values<int32_t>()));
  } else {
    RETURN_IF_ERROR(Produce(next_step_, images.values<float>(), labels.values<int32_t>()));
  }
  ++next_step_;
  return absl::OkStatus();
}

absl::Status BatchLoader::Produce(int64_t global_step, std::span<float> images,
                                  std::span<int32_t> labels) {
  const int64_t steps = steps_per_epoch();
  const std::span<const int64_t> indices =
      shards_.BatchIndices(global_step / steps, global_step % steps);
  std::optional<Rng> augment;
  if (options_.augment) {
    augment.emplace(options_.seed, static_cast<uint32_t>(options_.worker),
                    static_cast<uint32_t>(global_step), RngStream::kAugment);
  }
  assembler_.Assemble(indices, augment ? &*augment : nullptr, images, labels);
  return absl::OkStatus();
}

}  // namespace ald
