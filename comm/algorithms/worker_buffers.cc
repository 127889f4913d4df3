#include "comm/algorithms/worker_buffers.h"

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace ald {

absl::Status CheckWorkerBuffers(const WorkerBuffers& buffers, const char* algorithm) {
  const size_t length = buffers.params.size();
  if (buffers.grads.size() != length || buffers.momentum.size() != length) {
    return absl::InvalidArgumentError(absl::StrCat(
        algorithm, ": params, grads and momentum must have the same length, got ", length, ", ",
        buffers.grads.size(), " and ", buffers.momentum.size(), " floats"));
  }
  size_t offset = 0;
  for (size_t b = 0; b < buffers.buckets.size(); ++b) {
    const BucketSpan& bucket = buffers.buckets[b];
    if (bucket.offset != offset || bucket.size == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          algorithm, ": bucket ", b, " covers [", bucket.offset, ", ",
          bucket.offset + bucket.size, "); the buckets must tile the parameters in order with",
          " no gaps and none empty (expected it to start at ", offset, ")"));
    }
    offset += bucket.size;
  }
  if (offset != length) {
    return absl::InvalidArgumentError(absl::StrCat(algorithm, ": the buckets cover ", offset,
                                                   " floats, the parameters have ", length));
  }
  return absl::OkStatus();
}

absl::Status CheckBucket(const WorkerBuffers& buffers, int bucket, const char* algorithm) {
  if (bucket >= 0 && bucket < static_cast<int>(buffers.buckets.size())) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(algorithm, ": bucket ", bucket,
                                                 " does not exist (there are ",
                                                 buffers.buckets.size(), ")"));
}

BucketBuffers BucketOf(const WorkerBuffers& buffers, int bucket) {
  const BucketSpan& span = buffers.buckets[bucket];
  return {buffers.params.subspan(span.offset, span.size),
          buffers.grads.subspan(span.offset, span.size),
          buffers.momentum.subspan(span.offset, span.size)};
}

absl::StatusOr<std::vector<std::unique_ptr<cpu::WeightedSumCpu>>> BucketKernels(
    const WorkerBuffers& buffers, int num_inputs) {
  std::vector<std::unique_ptr<cpu::WeightedSumCpu>> kernels;
  for (const BucketSpan& bucket : buffers.buckets) {
    ASSIGN_OR_RETURN(std::unique_ptr<cpu::WeightedSumCpu> kernel,
                     cpu::WeightedSumCpu::Create(num_inputs, static_cast<int64_t>(bucket.size)));
    kernels.push_back(std::move(kernel));
  }
  return kernels;
}

absl::StatusOr<cpu::SgdConfig> ToSgdConfig(const LocalStep& local) {
  const cpu::SgdConfig config{local.lr, local.momentum, local.nesterov, local.weight_decay};
  RETURN_IF_ERROR(cpu::ValidateSgdConfig(config));
  return config;
}

absl::Status SgdStepOn(const cpu::SgdConfig& config, const BucketBuffers& bucket) {
  return cpu::SgdStep(config, bucket.params, bucket.grads,
                      config.momentum == 0.0f ? std::span<float>() : bucket.momentum);
}

}  // namespace ald
