// The local SGD step plus a pull toward an anchor a, both at the pre-step x, one bucket at a time:
// x ← x − γ(g + wd·x) (+ momentum) − c·(x − a), EASGD's elastic term and LSGD's leader pull.
//
// EASGD: a = the center x̃, c = α. LSGD: a = the leader's copy x_L, c = λ.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/algorithms/algorithm.h"
#include "comm/algorithms/worker_buffers.h"
#include "ops/mixing.h"
#include "ops/sgd.h"

namespace ald {

class PulledSgdStep {
 public:
  // Kernels and scratch for the buckets of `buffers` (checked by the caller).
  static absl::StatusOr<PulledSgdStep> Create(const WorkerBuffers& buffers);

  // Updates bucket `bucket` of `buffers` in place; `anchor` is that bucket's slice of a.
  absl::Status Run(const cpu::SgdConfig& config, const WorkerBuffers& buffers, int bucket,
                   std::span<const float> anchor, float strength);

 private:
  PulledSgdStep() = default;

  // x before the step: the pull must use it, and the SGD step overwrites x.
  std::vector<float> pre_step_;
  std::vector<std::unique_ptr<cpu::WeightedSumCpu>> combine_;  // 3 inputs per bucket
};

}  // namespace ald
