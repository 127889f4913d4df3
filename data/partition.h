// How the training set is split among W workers (--partition): reshuffled into equal shards
// every epoch (the default, shard.h), or one split for the whole run: IID (`fixed`, the AL-DSGD
// authors' setting), label-skewed by a Dirichlet draw per class (`dirichlet:ALPHA`, the standard
// non-IID benchmark of Hsu et al. 2019) or K label-sorted shards per worker (`shards:K`, McMahan
// et al. 2017). A split is a pure function of (labels, workers, seed), so every worker computes
// the same one, in one process or under MPI, without a message.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ald {

enum class PartitionKind { kReshuffle, kFixed, kDirichlet, kShards };

struct PartitionSpec {
  PartitionKind kind = PartitionKind::kReshuffle;
  double alpha = 0;          // kDirichlet: concentration, > 0 (0.1: strongly skewed)
  int shards_per_worker = 0; // kShards: K >= 1
};

// "reshuffle" | "fixed" | "dirichlet:ALPHA" | "shards:K"; InvalidArgument saying what was
// expected otherwise.
absl::StatusOr<PartitionSpec> ParsePartition(const std::string& text);
// What ParsePartition expects, for flag messages.
inline constexpr char kPartitionExpected[] =
    "reshuffle, fixed, dirichlet:ALPHA (a finite ALPHA > 0) or shards:K (an integer K >= 1)";

// Each worker's examples for the whole run under a fixed split (any kind but kReshuffle), each
// list ascending. fixed and shards:K give every worker floor(N / W) (the remainder unused, as the
// reshuffled default drops it); dirichlet gives unequal sizes and is redrawn (deterministically)
// until every worker has at least `min_examples`. `labels` are in [0, num_classes).
absl::StatusOr<std::vector<std::vector<int64_t>>> PartitionExamples(
    std::span<const int32_t> labels, int num_classes, int num_workers, uint64_t seed,
    const PartitionSpec& spec, int64_t min_examples);

// How many of `indices` have each label.
std::vector<int64_t> LabelHistogram(std::span<const int32_t> labels,
                                    std::span<const int64_t> indices, int num_classes);

// Every worker's label histogram: of its fixed shard, or under kReshuffle of its first epoch's
// shard (it changes every epoch; each label's share stays near 1/num_classes).
absl::StatusOr<std::vector<std::vector<int64_t>>> WorkerLabelHistograms(
    std::span<const int32_t> labels, int num_classes, int num_workers, uint64_t seed,
    const PartitionSpec& spec, int64_t min_examples);

}  // namespace ald
