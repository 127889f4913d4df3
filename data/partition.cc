#include "data/partition.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/rng.h"
#include "core/status.h"
#include "data/shard.h"

namespace ald {
namespace {

// Dirichlet redraws before giving up on a split where every worker has a batch.
constexpr uint32_t kMaxDirichletDraws = 100;

absl::Status Expected(const std::string& text) {
  return absl::InvalidArgumentError(
      absl::StrCat("partition '", text, "': expected ", kPartitionExpected));
}

// A uniform draw in (0, 1]: never 0, so its logarithm and powers stay finite.
double OpenUniform(Rng& rng) { return (static_cast<double>(rng.NextU32()) + 1.0) / 4294967296.0; }

// Gamma(shape, 1) (Marsaglia & Tsang 2000; shape < 1 boosted by U^(1 / shape)).
double Gamma(double shape, Rng& rng) {
  if (shape < 1.0) return Gamma(shape + 1.0, rng) * std::pow(OpenUniform(rng), 1.0 / shape);
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = rng.Normal();
    const double v = std::pow(1.0 + c * x, 3);
    if (v <= 0.0) continue;
    if (std::log(OpenUniform(rng)) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

std::vector<std::vector<int64_t>> DirichletDraw(std::span<const int32_t> labels, int num_classes,
                                                int num_workers, double alpha, Rng& rng) {
  std::vector<std::vector<int64_t>> by_class(num_classes);
  for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(static_cast<int64_t>(i));
  std::vector<std::vector<int64_t>> shards(num_workers);
  std::vector<double> share(num_workers);
  for (std::vector<int64_t>& members : by_class) {
    Shuffle(members, rng);
    double total = 0;
    for (double& s : share) total += (s = Gamma(alpha, rng));
    // Cut the class at the cumulative proportions, rounded: every example goes to one worker.
    double cumulative = 0;
    size_t begin = 0;
    for (int w = 0; w < num_workers; ++w) {
      cumulative += total > 0 ? share[w] / total : 1.0 / num_workers;
      const size_t end = w + 1 == num_workers
                             ? members.size()
                             : std::min(members.size(), static_cast<size_t>(std::llround(
                                                            cumulative * members.size())));
      if (end > begin) shards[w].insert(shards[w].end(), members.begin() + begin, members.begin() + end);
      begin = std::max(begin, end);
    }
  }
  return shards;
}

// Equal contiguous pieces of `order`, floor(N / W) each.
std::vector<std::vector<int64_t>> EqualPieces(const std::vector<int64_t>& order, int num_workers) {
  const size_t size = order.size() / num_workers;
  std::vector<std::vector<int64_t>> shards;
  for (int w = 0; w < num_workers; ++w) {
    shards.emplace_back(order.begin() + w * size, order.begin() + (w + 1) * size);
  }
  return shards;
}

// McMahan et al.'s pathological non-IID split: sort by label (ties in a random order), cut into
// W * K equal shards, hand each worker K of them at random.
absl::StatusOr<std::vector<std::vector<int64_t>>> LabelSortedShards(
    std::span<const int32_t> labels, int num_workers, int per_worker, Rng& rng) {
  const int64_t pieces = static_cast<int64_t>(num_workers) * per_worker;
  const int64_t size = static_cast<int64_t>(labels.size()) / pieces;
  if (size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("partition 'shards:", per_worker, "': ",
                                                   labels.size(), " examples cannot make ",
                                                   pieces, " shards"));
  }
  std::vector<int64_t> order(labels.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  Shuffle(order, rng);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return labels[a] < labels[b]; });
  std::vector<int64_t> piece_of(pieces);
  std::iota(piece_of.begin(), piece_of.end(), int64_t{0});
  Shuffle(piece_of, rng);
  std::vector<std::vector<int64_t>> shards(num_workers);
  for (int64_t k = 0; k < pieces; ++k) {
    const int64_t piece = piece_of[k];
    shards[k / per_worker].insert(shards[k / per_worker].end(), order.begin() + piece * size,
                                  order.begin() + (piece + 1) * size);
  }
  return shards;
}

}  // namespace

absl::StatusOr<PartitionSpec> ParsePartition(const std::string& text) {
  PartitionSpec spec;
  if (text == "reshuffle") return spec;
  if (text == "fixed") {
    spec.kind = PartitionKind::kFixed;
    return spec;
  }
  const size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  const std::string argument = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (kind == "dirichlet" && absl::SimpleAtod(argument, &spec.alpha) && std::isfinite(spec.alpha) &&
      spec.alpha > 0) {
    spec.kind = PartitionKind::kDirichlet;
    return spec;
  }
  if (kind == "shards" && absl::SimpleAtoi(argument, &spec.shards_per_worker) &&
      spec.shards_per_worker >= 1) {
    spec.kind = PartitionKind::kShards;
    return spec;
  }
  return Expected(text);
}

absl::StatusOr<std::vector<std::vector<int64_t>>> PartitionExamples(
    std::span<const int32_t> labels, int num_classes, int num_workers, uint64_t seed,
    const PartitionSpec& spec, int64_t min_examples) {
  if (spec.kind == PartitionKind::kReshuffle || num_workers < 1 || num_classes < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a fixed partition needs a fixed kind, workers and classes (got ", num_workers,
        " workers, ", num_classes, " classes)"));
  }
  const int64_t count = static_cast<int64_t>(labels.size());
  if (count / num_workers < min_examples) {
    return absl::InvalidArgumentError(absl::StrCat(count, " examples give each of ", num_workers,
                                                   " workers fewer than ", min_examples));
  }
  std::vector<std::vector<int64_t>> shards;
  if (spec.kind == PartitionKind::kFixed) {
    // The same draw as epoch 0 of the reshuffled default, kept for the whole run.
    shards = EqualPieces(EpochPermutation(count, seed, 0), num_workers);
  } else if (spec.kind == PartitionKind::kShards) {
    Rng rng(seed, 0, 0, RngStream::kPartition);
    ASSIGN_OR_RETURN(shards, LabelSortedShards(labels, num_workers, spec.shards_per_worker, rng));
  } else {
    for (uint32_t draw = 0;; ++draw) {
      if (draw == kMaxDirichletDraws) {
        return absl::InvalidArgumentError(absl::StrCat(
            "partition 'dirichlet:", spec.alpha, "': none of ", kMaxDirichletDraws,
            " draws gave each of ", num_workers, " workers at least ", min_examples,
            " examples (one batch); use a larger ALPHA, fewer workers or a smaller batch"));
      }
      Rng rng(seed, draw, 0, RngStream::kPartition);
      shards = DirichletDraw(labels, num_classes, num_workers, spec.alpha, rng);
      if (std::all_of(shards.begin(), shards.end(), [&](const std::vector<int64_t>& shard) {
            return static_cast<int64_t>(shard.size()) >= min_examples;
          })) {
        break;
      }
    }
  }
  for (std::vector<int64_t>& shard : shards) std::sort(shard.begin(), shard.end());
  return shards;
}

std::vector<int64_t> LabelHistogram(std::span<const int32_t> labels,
                                    std::span<const int64_t> indices, int num_classes) {
  std::vector<int64_t> histogram(num_classes, 0);
  for (int64_t index : indices) ++histogram[labels[index]];
  return histogram;
}

absl::StatusOr<std::vector<std::vector<int64_t>>> WorkerLabelHistograms(
    std::span<const int32_t> labels, int num_classes, int num_workers, uint64_t seed,
    const PartitionSpec& spec, int64_t min_examples) {
  std::vector<std::vector<int64_t>> shards;
  if (spec.kind == PartitionKind::kReshuffle) {
    shards = EqualPieces(EpochPermutation(static_cast<int64_t>(labels.size()), seed, 0),
                         num_workers);
  } else {
    ASSIGN_OR_RETURN(shards, PartitionExamples(labels, num_classes, num_workers, seed, spec,
                                               min_examples));
  }
  std::vector<std::vector<int64_t>> histograms;
  for (const std::vector<int64_t>& shard : shards) {
    histograms.push_back(LabelHistogram(labels, shard, num_classes));
  }
  return histograms;
}

}  // namespace ald
