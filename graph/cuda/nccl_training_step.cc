#include "graph/cuda/nccl_training_step.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "comm/nccl_communicator.h"
#include "core/status.h"
#include "ops/cuda/cuda_status.h"
#include "ops/cuda/kernels.h"
#include "ops/cuda/mixing.h"

namespace ald::cuda {

NcclTrainingStep::NcclTrainingStep(CudaPlan& plan, Communicator& nccl, Kind kind)
    : plan_(plan), nccl_(nccl), kind_(kind), pending_(plan.num_buckets(), false) {}

NcclTrainingStep::~NcclTrainingStep() {
  // The plan outlives this object in the usual order of destruction; it must not call back.
  plan_.SetBucketReadyCallback(nullptr);
  plan_.SetBucketNeededCallback(nullptr);
}

absl::StatusOr<std::unique_ptr<NcclTrainingStep>> NcclTrainingStep::AllReduce(CudaPlan& plan,
                                                                             Communicator& nccl) {
  std::unique_ptr<NcclTrainingStep> step(new NcclTrainingStep(plan, nccl, Kind::kAllReduce));
  RETURN_IF_ERROR(step->Install());
  return step;
}

absl::StatusOr<std::unique_ptr<NcclTrainingStep>> NcclTrainingStep::Decentralized(
    CudaPlan& plan, Communicator& nccl, NeighborhoodSource neighbors, int max_degree) {
  if (!neighbors) return absl::InvalidArgumentError("decentralized GPU step: no neighbourhoods");
  // The combine's weighted sum takes the own model and at most this many neighbours' models.
  if (max_degree < 0 || max_degree + 1 > kernels::kMaxWeightedSumInputs) {
    return absl::InvalidArgumentError(
        absl::StrCat("decentralized GPU step: a degree of ", max_degree,
                     " is beyond the combine kernel's ", kernels::kMaxWeightedSumInputs - 1,
                     " neighbours"));
  }
  std::unique_ptr<NcclTrainingStep> step(new NcclTrainingStep(plan, nccl, Kind::kDecentralized));
  step->neighbors_ = std::move(neighbors);
  step->max_degree_ = max_degree;
  const int64_t slots = static_cast<int64_t>(max_degree) * static_cast<int64_t>(plan.num_parameters());
  if (slots > 0) {
    ASSIGN_OR_RETURN(step->received_, DeviceBuffer<float>::Create(slots));
  }
  RETURN_IF_ERROR(step->Install());
  return step;
}

absl::Status NcclTrainingStep::Install() {
  if (nccl_.memory() != DeviceType::kCuda) {
    return absl::InvalidArgumentError("GPU training step: the communicator must be NCCL's");
  }
  for (int b = 0; b < plan_.num_buckets(); ++b) {
    cudaEvent_t event = nullptr;
    RETURN_IF_CUDA_ERROR(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    combined_.emplace_back(event);
  }
  plan_.SetBucketReadyCallback([this](int bucket) { return OnBucketReady(bucket); });
  plan_.SetBucketNeededCallback([this](int bucket) { return OnBucketNeeded(bucket); });
  return absl::OkStatus();
}

absl::Status NcclTrainingStep::BroadcastParameters() {
  RETURN_IF_ERROR(Flush());
  return nccl_.Broadcast(std::span<float>(plan_.parameters(), plan_.num_parameters()), 0);
}

absl::Status NcclTrainingStep::BeginStep(int64_t step, const cpu::SgdConfig& sgd) {
  RETURN_IF_ERROR(cpu::ValidateSgdConfig(sgd));
  sgd_ = sgd;
  if (kind_ == Kind::kDecentralized) {
    ASSIGN_OR_RETURN(neighborhood_, neighbors_(step));
    if (neighborhood_.degree() > max_degree_) {
      return absl::InvalidArgumentError(absl::StrCat("step ", step, ": ", neighborhood_.degree(),
                                                     " neighbours, more than the ", max_degree_,
                                                     " the step was built for"));
    }
    weights_.assign(1, static_cast<float>(neighborhood_.self_weight));
    for (const ActiveNeighbor& neighbor : neighborhood_.neighbors) {
      weights_.push_back(static_cast<float>(neighbor.weight));
    }
  }
  in_step_ = true;
  return absl::OkStatus();
}

absl::Status NcclTrainingStep::OnBucketReady(int bucket) {
  if (!in_step_) {
    return absl::FailedPreconditionError(
        absl::StrCat("GPU training step: bucket ", bucket, " is ready outside a step"));
  }
  const Bucket& b = plan_.buckets()[bucket];
  cudaStream_t stream = plan_.comm_stream();
  RETURN_IF_CUDA_ERROR(cudaStreamWaitEvent(stream, plan_.bucket_ready_event(bucket), 0));
  float* params = plan_.parameters() + b.offset;
  if (kind_ == Kind::kAllReduce) {
    RETURN_IF_ERROR(EnqueueAllReduceAverage(nccl_, plan_.gradients() + b.offset, b.size, stream));
    RETURN_IF_ERROR(plan_.SgdStepBucket(sgd_, bucket, stream));
  } else {
    RETURN_IF_ERROR(plan_.SgdStepBucket(sgd_, bucket, stream));
    RETURN_IF_ERROR(Combine(bucket, params, b.size, b.offset));
  }
  RETURN_IF_CUDA_ERROR(cudaEventRecord(combined_[bucket].get(), stream));
  pending_[bucket] = true;
  if (bucket + 1 == plan_.num_buckets()) in_step_ = false;
  return absl::OkStatus();
}

absl::Status NcclTrainingStep::Combine(int bucket, float* params, size_t count, size_t offset) {
  const int degree = neighborhood_.degree();
  if (degree == 0) return absl::OkStatus();  // nobody active this step: y is the new x
  std::vector<NcclTransfer> transfers;
  std::vector<const float*> inputs = {params};
  for (int k = 0; k < degree; ++k) {
    float* slot = received_.data() + static_cast<size_t>(k) * plan_.num_parameters() + offset;
    const int peer = neighborhood_.neighbors[k].rank;
    transfers.push_back({.send = true, .peer = peer, .data = params, .count = count});
    transfers.push_back({.send = false, .peer = peer, .data = slot, .count = count});
    inputs.push_back(slot);
  }
  cudaStream_t stream = plan_.comm_stream();
  absl::Status exchanged = EnqueueExchange(nccl_, transfers, stream);
  if (!exchanged.ok()) {
    return absl::Status(exchanged.code(),
                        absl::StrCat("bucket ", bucket, ": ", exchanged.message()));
  }
  return WeightedSum(weights_, inputs, static_cast<int64_t>(count), params, stream);
}

absl::Status NcclTrainingStep::OnBucketNeeded(int bucket) {
  if (!pending_[bucket]) return absl::OkStatus();
  RETURN_IF_CUDA_ERROR(
      cudaStreamWaitEvent(plan_.compute_stream(), combined_[bucket].get(), 0));
  pending_[bucket] = false;
  return absl::OkStatus();
}

absl::Status NcclTrainingStep::Flush() {
  for (int b = 0; b < plan_.num_buckets(); ++b) RETURN_IF_ERROR(OnBucketNeeded(b));
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(plan_.comm_stream()));
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(plan_.compute_stream()));
  return absl::OkStatus();
}

}  // namespace ald::cuda
