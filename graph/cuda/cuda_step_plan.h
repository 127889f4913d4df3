// A CudaPlan as the step scheduler runs it (graph/step_plan.h). The plan enqueues its work on
// the compute stream; an algorithm's bucket work runs on the communication stream. This adapter
// is the only place the two streams are ordered: a bucket's work waits for its bucket-ready
// event, and the compute stream waits for the bucket's work before the next forward reads it.
// The host never waits, except in Synchronize.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/cuda/cuda_plan.h"
#include "graph/step_plan.h"

namespace ald::cuda {

class CudaStepPlan final : public StepPlan {
 public:
  // `before_run` (may be unset) runs before each step, e.g. to upload the batch.
  static absl::StatusOr<std::unique_ptr<CudaStepPlan>> Create(
      CudaPlan& plan, std::function<absl::Status()> before_run = {});

  absl::Status Run(const DropoutKey& key) override;
  float loss() const override { return plan_.loss(); }
  int num_buckets() const override { return plan_.num_buckets(); }
  void SetSignals(StepSignals signals) override;
  absl::Status BucketWorkBegins(int bucket) override;
  absl::Status BucketWorkEnds(int bucket) override;
  absl::Status Synchronize() override;

 private:
  CudaStepPlan(CudaPlan& plan, std::function<absl::Status()> before_run)
      : plan_(plan), before_run_(std::move(before_run)) {}

  CudaPlan& plan_;
  std::function<absl::Status()> before_run_;
  std::vector<OwnedEvent> work_done_;  // per bucket, recorded on the communication stream
};

}  // namespace ald::cuda
