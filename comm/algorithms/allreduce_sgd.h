// All-reduce SGD, the DDP equivalent and the centralized baseline: each bucket's all-reduce
// starts as soon as its gradients are final and runs while the backward goes on; after the
// backward every worker waits for the averages and takes the same step (as PyTorch DDP does).
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/algorithms/algorithm.h"
#include "comm/algorithms/bucket_device.h"
#include "ops/sgd.h"

namespace ald {

class AllReduceSgd final : public Algorithm {
 public:
  static absl::StatusOr<std::unique_ptr<AllReduceSgd>> Create(const AlgorithmContext& context);

  const char* name() const override { return "allreduce"; }
  absl::Status Start() override;
  absl::Status BeginStep(int64_t step, const LocalStep& local) override;
  // Starts the average of the bucket's gradients, in place (the buffer then holds the
  // union-batch gradient); it does not wait for the other workers.
  absl::Status UpdateAndPost(int bucket) override;
  absl::Status EndStep() override { return absl::OkStatus(); }
  // Waits for the bucket's average and steps the bucket.
  absl::Status Combine(int bucket) override;
  // The step needs this step's lr, and every all-reduce must be done before anything else
  // talks to the peers: the combines run when the step ends.
  bool CombinesMayWaitForTheForward() const override { return false; }

 private:
  explicit AllReduceSgd(const AlgorithmContext& context)
      : buffers_(context.buffers),
        options_(context.options),
        device_(DeviceOf(context, owned_device_)),
        averages_(context.buffers.buckets.size()) {}

  WorkerBuffers buffers_;
  AlgorithmOptions options_;
  std::unique_ptr<BucketDevice> owned_device_;  // the host's, when the context names none
  BucketDevice* device_;
  cpu::SgdConfig config_;
  std::vector<PendingCollective> averages_;  // per bucket, this step's
};

}  // namespace ald
