#include "comm/allreduce_sgd.h"

#include "comm/algorithm_factories.h"
#include "comm/baseline_support.h"
#include "core/status.h"

namespace ald {

absl::StatusOr<std::unique_ptr<AllReduceSgd>> AllReduceSgd::Create(
    const AlgorithmContext& context) {
  if (context.comm == nullptr) return absl::InvalidArgumentError("allreduce: no communicator");
  RETURN_IF_ERROR(CheckWorkerBuffers(context.buffers, "allreduce"));
  return std::unique_ptr<AllReduceSgd>(new AllReduceSgd(context));
}

absl::Status AllReduceSgd::Start() {
  return StartFromRankZero(comm_, buffers_, options_, stats_);
}

absl::Status AllReduceSgd::BeginStep(int64_t, const LocalStep& local) {
  ASSIGN_OR_RETURN(config_, ToSgdConfig(local));
  return absl::OkStatus();
}

absl::Status AllReduceSgd::OnBucketReady(int bucket) {
  RETURN_IF_ERROR(CheckBucket(buffers_, bucket, "allreduce"));
  const BucketBuffers slice = BucketOf(buffers_, bucket);
  // Blocking: this bucket's exchange finishes before the hook returns. The pipelined scheduler
  // will want a non-blocking all-reduce here, posted now and waited for in EndStep, so that
  // backward on earlier layers overlaps it. Summation order is the backend's and fixed (inproc:
  // rank order), so every worker gets the same bits and takes the same step.
  RETURN_IF_ERROR(
      CountedAllReduce(comm_, slice.grads, ReduceOp::kAverage, stats_, trace_, trace_pid_));
  const ScopedTraceEvent update = TraceUpdate(bucket);
  return SgdStepOn(config_, slice);
}

absl::StatusOr<std::unique_ptr<Algorithm>> MakeAllReduceSgd(const AlgorithmContext& context) {
  ASSIGN_OR_RETURN(std::unique_ptr<AllReduceSgd> algorithm, AllReduceSgd::Create(context));
  return std::unique_ptr<Algorithm>(std::move(algorithm));
}

}  // namespace ald
