#include "graph/cuda/nccl_training_step.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "comm/nccl_communicator.h"
#include "core/status.h"
#include "ops/cuda/cuda_status.h"
#include "ops/cuda/kernels.h"
#include "ops/cuda/mixing.h"

namespace ald::cuda {

NcclTrainingStep::NcclTrainingStep(CudaPlan& plan, Communicator& nccl, Kind kind,
                                   const AlgorithmOptions& options)
    : plan_(plan),
      nccl_(nccl),
      kind_(kind),
      options_(options),
      pending_(plan.num_buckets(), false) {}

absl::StatusOr<std::unique_ptr<NcclTrainingStep>> NcclTrainingStep::AllReduce(
    CudaPlan& plan, Communicator& nccl, const AlgorithmOptions& options) {
  std::unique_ptr<NcclTrainingStep> step(
      new NcclTrainingStep(plan, nccl, Kind::kAllReduce, options));
  RETURN_IF_ERROR(step->CreateEvents());
  return step;
}

absl::StatusOr<std::unique_ptr<NcclTrainingStep>> NcclTrainingStep::Decentralized(
    CudaPlan& plan, Communicator& nccl, NeighborhoodSource neighbors, int max_degree,
    const AlgorithmOptions& options) {
  if (!neighbors) return absl::InvalidArgumentError("decentralized GPU step: no neighbourhoods");
  // The combine's weighted sum takes the own model and at most this many neighbours' models.
  if (max_degree < 0 || max_degree + 1 > kernels::kMaxWeightedSumInputs) {
    return absl::InvalidArgumentError(
        absl::StrCat("decentralized GPU step: a degree of ", max_degree,
                     " is beyond the combine kernel's ", kernels::kMaxWeightedSumInputs - 1,
                     " neighbours"));
  }
  std::unique_ptr<NcclTrainingStep> step(
      new NcclTrainingStep(plan, nccl, Kind::kDecentralized, options));
  step->neighbors_ = std::move(neighbors);
  step->max_degree_ = max_degree;
  const int64_t slots = static_cast<int64_t>(max_degree) * static_cast<int64_t>(plan.num_parameters());
  if (slots > 0) {
    ASSIGN_OR_RETURN(step->received_, DeviceBuffer<float>::Create(slots));
  }
  RETURN_IF_ERROR(step->CreateEvents());
  return step;
}

const char* NcclTrainingStep::name() const {
  return kind_ == Kind::kAllReduce ? "allreduce (GPU)" : "decentralized (GPU)";
}

absl::Status NcclTrainingStep::CreateEvents() {
  if (nccl_.memory() != DeviceType::kCuda) {
    return absl::InvalidArgumentError("GPU training step: the communicator must be NCCL's");
  }
  for (int b = 0; b < plan_.num_buckets(); ++b) {
    cudaEvent_t event = nullptr;
    RETURN_IF_CUDA_ERROR(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    combined_.emplace_back(event);
  }
  return absl::OkStatus();
}

absl::Status NcclTrainingStep::Start() {
  if (!options_.sync_init) return absl::OkStatus();
  RETURN_IF_ERROR(Flush());
  const absl::Time start = absl::Now();
  absl::Status status =
      nccl_.Broadcast(std::span<float>(plan_.parameters(), plan_.num_parameters()), 0);
  stats_.wait_seconds += absl::ToDoubleSeconds(absl::Now() - start);
  return status;
}

absl::Status NcclTrainingStep::BeginStep(int64_t step, const LocalStep& local) {
  const cpu::SgdConfig sgd{local.lr, local.momentum, local.nesterov, local.weight_decay};
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
    // A ring all-reduce sends about twice the data, whatever the number of ranks.
    stats_.bytes_sent += static_cast<int64_t>(2 * b.size * sizeof(float));
    ++stats_.messages_sent;
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
    stats_.bytes_sent += static_cast<int64_t>(count * sizeof(float));
    ++stats_.messages_sent;
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

absl::Status NcclTrainingStep::EndStep() {
  if (options_.defer_combine) return absl::OkStatus();
  for (int b = 0; b < plan_.num_buckets(); ++b) RETURN_IF_ERROR(OnBucketNeeded(b));
  return absl::OkStatus();
}

absl::Status NcclTrainingStep::Flush() {
  for (int b = 0; b < plan_.num_buckets(); ++b) RETURN_IF_ERROR(OnBucketNeeded(b));
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(plan_.comm_stream()));
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(plan_.compute_stream()));
  return absl::OkStatus();
}

}  // namespace ald::cuda
