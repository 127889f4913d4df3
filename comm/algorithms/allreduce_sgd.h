// All-reduce SGD, the DDP equivalent and the centralized baseline: each bucket's gradients are
// averaged over all workers as soon as they are final, then every worker takes the same step.
#pragma once

#include <memory>

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
    // Averages the bucket's gradients in place (the buffer then holds the union-batch gradient),
  // then steps the bucket.
  absl::Status UpdateAndPost(int bucket) override;
  absl::Status EndStep() override { return absl::OkStatus(); }

 private:
  explicit AllReduceSgd(const AlgorithmContext& context)
      : buffers_(context.buffers),
        options_(context.options),
        device_(DeviceOf(context, owned_device_)) {}

  WorkerBuffers buffers_;
  AlgorithmOptions options_;
  std::unique_ptr<BucketDevice> owned_device_;  // the host's, when the context names none
  BucketDevice* device_;
  cpu::SgdConfig config_;
};

}  // namespace ald
