// Test scaffolding for the algorithms: N in-process workers as threads, each with its own flat
// buffers, stepped through the step scheduler on a stand-in plan.
#pragma once

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "comm/algorithms/algorithm.h"
#include "graph/step_scheduler.h"
#include "comm/communicator.h"

namespace ald::testing {

// One worker's buffers, owned, with `bucket_sizes` tiling them in order.
struct TestWorker {
  std::vector<float> params, grads, momentum;
  std::vector<BucketSpan> buckets;

  TestWorker(std::vector<float> initial, const std::vector<size_t>& bucket_sizes);
  WorkerBuffers buffers();
};

// Runs body(rank, comm) on `workers` threads over one InprocWorld; returns the first error
// (each as "rank R: ..."). Every wait in the communicator has `timeout`, so nothing hangs.
absl::Status RunWorkers(int workers,
                        const std::function<absl::Status(int rank, Communicator& comm)>& body,
                        absl::Duration timeout = absl::Seconds(20));

// A stand-in for a compiled plan: Run computes the gradient (`compute`, if any) and signals
// like a real plan: bucket needed for n-1..0 (the forward reaches the first layers, the last
// bucket, first), the loss, then bucket ready for 0..n-1.
class FakeStepPlan final : public StepPlan {
 public:
  explicit FakeStepPlan(int num_buckets) : num_buckets_(num_buckets) {}
  void SetStep(float loss, std::function<void()> compute) {
    loss_ = loss;
    compute_ = std::move(compute);
  }
  absl::Status Run(const DropoutKey& key) override;
  float loss() const override { return loss_; }
  int num_buckets() const override { return num_buckets_; }
  void SetSignals(StepSignals signals) override { signals_ = std::move(signals); }

 private:
  int num_buckets_;
  float loss_ = 0.0f;
  std::function<void()> compute_;
  StepSignals signals_;
};

// Steps an algorithm through the StepScheduler exactly as the trainer does, on a FakeStepPlan.
// Pipelined, the caller must Flush before reading the parameters.
class SchedulerHarness {
 public:
  SchedulerHarness(Algorithm& algorithm, int num_buckets, bool pipelined)
      : plan_(num_buckets), scheduler_(plan_, algorithm, pipelined) {}
  absl::Status Step(int64_t step, const LocalStep& local, float loss,
                    std::function<void()> compute = {}) {
    plan_.SetStep(loss, std::move(compute));
    return scheduler_.Step(step, local, {});
  }
  absl::Status Flush() { return scheduler_.Flush(); }

 private:
  FakeStepPlan plan_;
  StepScheduler scheduler_;
};

// One sequential step through the scheduler (nothing is left deferred).
absl::Status RunStep(Algorithm& algorithm, int64_t step, const LocalStep& local, float loss,
                     int num_buckets, const std::function<void()>& compute = {});

}  // namespace ald::testing
