// One factory per algorithm file; CreateAlgorithm (algorithm_registry.cc) maps names to them.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "comm/algorithm.h"

namespace ald {

absl::StatusOr<std::unique_ptr<Algorithm>> MakeAllReduceSgd(const AlgorithmContext& context);
absl::StatusOr<std::unique_ptr<Algorithm>> MakeDpsgd(const AlgorithmContext& context);
absl::StatusOr<std::unique_ptr<Algorithm>> MakeMatchaSgd(const AlgorithmContext& context);
absl::StatusOr<std::unique_ptr<Algorithm>> MakeAldsgd(const AlgorithmContext& context);
absl::StatusOr<std::unique_ptr<Algorithm>> MakeEasgd(const AlgorithmContext& context);
absl::StatusOr<std::unique_ptr<Algorithm>> MakeLsgd(const AlgorithmContext& context);
absl::StatusOr<std::unique_ptr<Algorithm>> MakeAdpsgd(const AlgorithmContext& context);

}  // namespace ald
