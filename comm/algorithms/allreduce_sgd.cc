#include "comm/algorithms/allreduce_sgd.h"

#include "comm/algorithms/counted_collectives.h"
#include "comm/algorithms/registry.h"
#include "comm/algorithms/worker_buffers.h"
#include "core/status.h"

namespace ald {

absl::StatusOr<std::unique_ptr<AllReduceSgd>> AllReduceSgd::Create(
    const AlgorithmContext& context) {
  if (context.comm == nullptr) return absl::InvalidArgumentError("allreduce: no communicator");
  RETURN_IF_ERROR(CheckWorkerBuffers(context.buffers, "allreduce"));
  return std::unique_ptr<AllReduceSgd>(new AllReduceSgd(context));
}

absl::Status AllReduceSgd::Start() {
  // Every worker adopts rank 0's parameters (DESIGN.md: all workers start from the same x_0).
  if (!options_.sync_init) return absl::OkStatus();
  return device_->Broadcast(buffers_.params, /*root=*/0, stats_, /*trace=*/nullptr, 0);
}

absl::Status AllReduceSgd::BeginStep(int64_t, const LocalStep& local) {
  ASSIGN_OR_RETURN(config_, ToSgdConfig(local));
  return absl::OkStatus();
}

absl::Status AllReduceSgd::UpdateAndPost(int bucket) {
  RETURN_IF_ERROR(CheckBucket(buffers_, bucket, "allreduce"));
  // The host runs it on the device's collective lane, a GPU enqueues it on its communication
  // stream. Summation order is the backend's and fixed (rank order unless
  // --reproducible_sums=false), so every worker gets the same bits and takes the same step.
  averages_[bucket] = device_->StartAllReduceAverage(BucketOf(buffers_, bucket).grads, stats_,
                                                     trace_, trace_pid_);
  return absl::OkStatus();
}

absl::Status AllReduceSgd::Combine(int bucket) {
  RETURN_IF_ERROR(CheckBucket(buffers_, bucket, "allreduce"));
  const BucketBuffers slice = BucketOf(buffers_, bucket);
  RETURN_IF_ERROR(
      TimedWait(stats_, [&] { return averages_[bucket].Wait(); }, trace_, trace_pid_));
  const ScopedTraceEvent update = TraceUpdate(bucket);
  return device_->SgdStep(config_, slice.params, slice.grads,
                          config_.momentum == 0.0f ? std::span<float>() : slice.momentum);
}

absl::StatusOr<std::unique_ptr<Algorithm>> MakeAllReduceSgd(const AlgorithmContext& context) {
  ASSIGN_OR_RETURN(std::unique_ptr<AllReduceSgd> algorithm, AllReduceSgd::Create(context));
  return std::unique_ptr<Algorithm>(std::move(algorithm));
}

}  // namespace ald
