// A compiled training plan as the step scheduler runs it (graph/step_scheduler.h): one step of
// forward, loss and backward that signals its buckets, on any backend. The CPU's Plan and the
// GPU's CudaPlan are adapted to it (CpuStepPlan below, graph/cuda/cuda_step_plan.h).
#pragma once

#include <functional>

#include "absl/status/status.h"
#include "graph/plan.h"
#include "ops/dropout.h"

namespace ald {

// What a plan calls during Run; each may be unset. An error stops the step.
struct StepSignals {
  // The forward has the loss (before the backward starts).
  std::function<absl::Status(float loss)> loss_ready;
  // No later launch touches the bucket: its gradients are final (graph/bucket_signals.h).
  std::function<absl::Status(int bucket)> bucket_ready;
  // The first launch that reads the bucket's parameters is next.
  std::function<absl::Status(int bucket)> bucket_needed;
};

class StepPlan {
 public:
  virtual ~StepPlan() = default;
  // One step on the batch already in place; `key` seeds dropout. A plan that has its loss only
  // when the whole step is done (a GPU's) leaves loss_ready unsignalled, and the scheduler
  // shares the loss after Run instead.
  virtual absl::Status Run(const DropoutKey& key) = 0;
  // The step's loss (mean over the batch), once Run has returned.
  virtual float loss() const = 0;
  virtual int num_buckets() const = 0;
  virtual void SetSignals(StepSignals signals) = 0;

  // Ordering between the plan's compute and the algorithm's work on a bucket, for a device
  // whose work runs on streams (no-ops where both run on the calling thread):
  // the bucket's update may start (its gradients are final on the device) ...
  virtual absl::Status BucketWorkBegins(int /*bucket*/) { return absl::OkStatus(); }
  // ... and the bucket's parameters are final for the next forward (its combine is enqueued).
  virtual absl::Status BucketWorkEnds(int /*bucket*/) { return absl::OkStatus(); }
  // Everything enqueued has finished: the host may read the buffers.
  virtual absl::Status Synchronize() { return absl::OkStatus(); }
};

// The CPU's Plan (graph/plan.h): its signals are called on the thread that runs it.
class CpuStepPlan final : public StepPlan {
 public:
  explicit CpuStepPlan(Plan& plan) : plan_(plan) {}

  absl::Status Run(const DropoutKey& key) override { return plan_.Run(key); }
  float loss() const override { return plan_.loss(); }
  int num_buckets() const override { return plan_.num_buckets(); }
  void SetSignals(StepSignals signals) override {
    plan_.SetLossReadyCallback(std::move(signals.loss_ready));
    plan_.SetBucketReadyCallback(std::move(signals.bucket_ready));
    plan_.SetBucketNeededCallback(std::move(signals.bucket_needed));
  }

 private:
  Plan& plan_;
};

}  // namespace ald
