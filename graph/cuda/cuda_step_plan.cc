#include "graph/cuda/cuda_step_plan.h"

#include "core/status.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {

absl::StatusOr<std::unique_ptr<CudaStepPlan>> CudaStepPlan::Create(
    CudaPlan& plan, std::function<absl::Status()> before_run) {
  std::unique_ptr<CudaStepPlan> steps(new CudaStepPlan(plan, std::move(before_run)));
  for (int bucket = 0; bucket < plan.num_buckets(); ++bucket) {
    cudaEvent_t event = nullptr;
    RETURN_IF_CUDA_ERROR(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    steps->work_done_.emplace_back(event);
  }
  return steps;
}

absl::Status CudaStepPlan::Run(const DropoutKey& key) {
  if (before_run_) RETURN_IF_ERROR(before_run_());
  return plan_.Run(key);
}

void CudaStepPlan::SetSignals(StepSignals signals) {
  // The loss is on the host only after Run: the scheduler shares it then.
  plan_.SetBucketReadyCallback(std::move(signals.bucket_ready));
  plan_.SetBucketNeededCallback(std::move(signals.bucket_needed));
}

absl::Status CudaStepPlan::BucketWorkBegins(int bucket) {
  RETURN_IF_CUDA_ERROR(
      cudaStreamWaitEvent(plan_.comm_stream(), plan_.bucket_ready_event(bucket), 0));
  return absl::OkStatus();
}

absl::Status CudaStepPlan::BucketWorkEnds(int bucket) {
  cudaEvent_t done = work_done_.at(bucket).get();
  RETURN_IF_CUDA_ERROR(cudaEventRecord(done, plan_.comm_stream()));
  RETURN_IF_CUDA_ERROR(cudaStreamWaitEvent(plan_.compute_stream(), done, 0));
  return absl::OkStatus();
}

absl::Status CudaStepPlan::Synchronize() {
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(plan_.comm_stream()));
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(plan_.compute_stream()));
  return absl::OkStatus();
}

}  // namespace ald::cuda
