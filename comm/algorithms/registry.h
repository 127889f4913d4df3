// The one list of algorithm names: each name with its factory (one per algorithm file) and
// where it runs. The trainer, its flag validation and the GPU model all read it.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/algorithms/algorithm.h"

namespace ald {

using AlgorithmFactory =
    absl::StatusOr<std::unique_ptr<Algorithm>> (*)(const AlgorithmContext& context);

struct AlgorithmEntry {
  const char* name;
  AlgorithmFactory make;
  // Written against BucketDevice, so it runs on a GPU too (the others run on the host only).
  bool runs_on_gpu;
  // Sends models, so AlgorithmOptions::wire may round them to bf16 (all-reduce SGD sends
  // gradients; AD-PSGD's pairwise average must give both sides the same bits).
  bool sends_models;
};

// Every algorithm, in the order the help text lists them.
std::span<const AlgorithmEntry> Algorithms();
// The entry named `name`, or null.
const AlgorithmEntry* FindAlgorithm(std::string_view name);
std::vector<std::string> AlgorithmNames();
// "allreduce | dpsgd | ..." (for flag help and error messages); `gpu_only`: those that run on a GPU.
std::string AlgorithmNameList(bool gpu_only = false);
// "dpsgd | matcha | ...": the algorithms that take --wire=bf16 (AlgorithmEntry::sends_models).
std::string ModelSendingAlgorithmList();

// An unknown name, a topology that does not fit the algorithm (dpsgd needs a static scheme,
// matcha a MATCHA scheme), a device the algorithm does not run on, or a bf16 wire for an
// algorithm that sends no models is an error naming both.
absl::StatusOr<std::unique_ptr<Algorithm>> CreateAlgorithm(const std::string& name,
                                                           const AlgorithmContext& context);

// The factories, one per algorithm file.
absl::StatusOr<std::unique_ptr<Algorithm>> MakeAllReduceSgd(const AlgorithmContext& context);
absl::StatusOr<std::unique_ptr<Algorithm>> MakeDpsgd(const AlgorithmContext& context);
absl::StatusOr<std::unique_ptr<Algorithm>> MakeMatchaSgd(const AlgorithmContext& context);
absl::StatusOr<std::unique_ptr<Algorithm>> MakeAldsgd(const AlgorithmContext& context);
absl::StatusOr<std::unique_ptr<Algorithm>> MakeEasgd(const AlgorithmContext& context);
absl::StatusOr<std::unique_ptr<Algorithm>> MakeLsgd(const AlgorithmContext& context);
absl::StatusOr<std::unique_ptr<Algorithm>> MakeAdpsgd(const AlgorithmContext& context);

}  // namespace ald
