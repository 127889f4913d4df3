// One worker's flat buffers as the algorithms use them: checks, bucket views, the local step.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/algorithms/algorithm.h"
#include "ops/mixing.h"
#include "ops/sgd.h"

namespace ald {

// One bucket's slice of the three flat buffers.
struct BucketBuffers {
  std::span<float> params, grads, momentum;
};

// InvalidArgument naming `algorithm` unless params, grads and momentum have the same length and
// the buckets tile them in order without gaps (the hooks rely on both).
absl::Status CheckWorkerBuffers(const WorkerBuffers& buffers, const char* algorithm);
// InvalidArgument naming `algorithm` unless 0 <= bucket < number of buckets.
absl::Status CheckBucket(const WorkerBuffers& buffers, int bucket, const char* algorithm);
BucketBuffers BucketOf(const WorkerBuffers& buffers, int bucket);
// One weighted-sum kernel of `num_inputs` inputs per bucket (a kernel is built for one length).
absl::StatusOr<std::vector<std::unique_ptr<cpu::WeightedSumCpu>>> BucketKernels(
    const WorkerBuffers& buffers, int num_inputs);

// The local step as ops/sgd.h takes it, validated.
absl::StatusOr<cpu::SgdConfig> ToSgdConfig(const LocalStep& local);
// cpu::SgdStep on one bucket (the momentum slice only when momentum is on).
absl::Status SgdStepOn(const cpu::SgdConfig& config, const BucketBuffers& bucket);

}  // namespace ald
