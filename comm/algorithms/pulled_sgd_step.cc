#include "comm/algorithms/pulled_sgd_step.h"

#include <algorithm>
#include <array>

#include "core/status.h"

namespace ald {

absl::StatusOr<PulledSgdStep> PulledSgdStep::Create(const WorkerBuffers& buffers) {
  PulledSgdStep step;
  step.pre_step_.resize(buffers.params.size());
  ASSIGN_OR_RETURN(step.combine_, BucketKernels(buffers, 3));
  return step;
}

absl::Status PulledSgdStep::Run(const cpu::SgdConfig& config, const WorkerBuffers& buffers,
                                int bucket, std::span<const float> anchor, float strength) {
  const BucketBuffers slice = BucketOf(buffers, bucket);
  const std::span<float> pre =
      std::span(pre_step_).subspan(buffers.buckets[bucket].offset, slice.params.size());
  std::copy(slice.params.begin(), slice.params.end(), pre.begin());
  RETURN_IF_ERROR(SgdStepOn(config, slice));
  // x ← SGD(x_pre) − c·x_pre + c·a, one pass.
  const std::array<float, 3> weights = {1.0f, -strength, strength};
  const std::array<std::span<const float>, 3> inputs = {slice.params, pre, anchor};
  return combine_[bucket]->Run(weights, inputs, slice.params);
}

}  // namespace ald
