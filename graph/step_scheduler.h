// The one place that runs a training step on a compiled plan (DESIGN.md, "Pipeline"): it wires
// the plan's signals to the algorithm's rule and keeps the step's bookkeeping (which buckets are
// ready, which combines were deferred, what the next forward waits for), so that an algorithm
// holds no scheduling state. The trainer, the benchmarks and the tests all step through it.
//
// Pipelined (the default): BeginStep; during Run, the loss is shared as the forward has it and
// each bucket is updated and posted as its gradients are final, while backward goes on; then
// EndStep. A combine that may wait is deferred to the next forward, which waits only for the
// bucket it is about to read (a bucket's first read), and finishes before the next step's first
// update in any case. Sequential: BeginStep, Run, then the loss, every bucket's update and
// post, EndStep and every combine, after the backward.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "comm/algorithms/algorithm.h"
#include "graph/step_plan.h"
#include "ops/dropout.h"

namespace ald {

class StepScheduler {
 public:
  // Neither is owned; both must outlive the scheduler, which (pipelined) owns the plan's
  // signals until it is destroyed.
  StepScheduler(StepPlan& plan, Algorithm& algorithm, bool pipelined);
  ~StepScheduler();
  StepScheduler(const StepScheduler&) = delete;
  StepScheduler& operator=(const StepScheduler&) = delete;

  // One training step on the batch already in place. An error names the hook that failed;
  // the step is then abandoned (the run stops).
  absl::Status Step(int64_t step, const LocalStep& local, const DropoutKey& key);
  // Finishes every deferred combine and waits for the device: afterwards the parameters are
  // x_i. Call it before anything outside the step reads them (evaluation, a checkpoint, the
  // end of training).
  absl::Status Flush();

 private:
  absl::Status LossReady(float loss);
  absl::Status BucketReady(int bucket);
  absl::Status BucketNeeded(int bucket);
  absl::Status EndStep();
  // The algorithm's combine of one bucket, then the hand-back of its parameters to compute.
  absl::Status CombineBucket(int bucket);
  // Every combine still deferred, in bucket order (without waiting for the device).
  absl::Status CombineDeferred();

  StepPlan& plan_;
  Algorithm& algorithm_;
  const bool pipelined_;
  const int num_buckets_;

  int64_t step_ = 0;
  bool in_step_ = false;
  bool loss_shared_ = false;
  std::vector<bool> ready_;     // this step, per bucket
  int num_ready_ = 0;
  std::vector<bool> deferred_;  // combine still to do, per bucket
  int num_deferred_ = 0;
};

}  // namespace ald
