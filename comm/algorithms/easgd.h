// Synchronous EASGD (Zhang, Choromanska, LeCun 2015): every worker is pulled elastically toward
// a center x̃ that every worker holds identically, and the center moves toward the workers' mean.
//
// At a communication step (step % τ == 0), per bucket and with x_i the worker's parameters
// *before* this step's update (the paper's synchronous form, eqs. 5-6: both updates read x^t):
//   mean  = (1/n) Σ_j x_j                       (all-reduce average of the pre-step buckets)
//   x_i  ← x_i − γ(g_i + wd·x_i) (+ momentum) − α(x_i − x̃),   α = β/n
//   x̃   ← (1 − β)·x̃ + β·mean
// Between communication steps the workers take plain local SGD steps and x̃ stays put.
// x̃ starts as x_0 (every worker's parameters after the sync_init broadcast), or as the workers'
// mean when sync_init is off, so that it is the same on every worker either way.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/algorithms/algorithm.h"
#include "comm/algorithms/pulled_sgd_step.h"
#include "ops/mixing.h"
#include "ops/sgd.h"

namespace ald {

class Easgd final : public Algorithm {
 public:
  // InvalidArgument unless 0 <= β <= 1 (the center update is a convex combination) and τ >= 1.
  static absl::StatusOr<std::unique_ptr<Easgd>> Create(const AlgorithmContext& context);

  const char* name() const override { return "easgd"; }
  absl::Status Start() override;
  absl::Status BeginStep(int64_t step, const LocalStep& local) override;
    absl::Status UpdateAndPost(int bucket) override;
  absl::Status EndStep() override { return absl::OkStatus(); }

  const std::vector<float>& center() const { return center_; }
  std::vector<AlgorithmStateTensor> State() override;

 private:
  Easgd(const AlgorithmContext& context, PulledSgdStep pulled_step,
        std::vector<std::unique_ptr<cpu::WeightedSumCpu>> center_update);

  Communicator& comm_;
  WorkerBuffers buffers_;
  AlgorithmOptions options_;
  float alpha_ = 0;  // β / n
  PulledSgdStep pulled_step_;
  std::vector<std::unique_ptr<cpu::WeightedSumCpu>> center_update_;  // 2 inputs per bucket
  std::vector<float> center_;
  std::vector<float> mean_;  // the all-reduce's buffer
  cpu::SgdConfig config_;
  bool communicate_ = false;  // this step is a communication step
  uint64_t rounding_key_ = 0;  // this step's, for a bf16 wire's mean
};

}  // namespace ald
