#include "graph/cuda/nccl_training_step.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "comm/aldsgd.h"
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
  return WithNeighbors(Kind::kDecentralized, plan, nccl, std::move(neighbors), max_degree,
                       options);
}

absl::StatusOr<std::unique_ptr<NcclTrainingStep>> NcclTrainingStep::Aldsgd(
    CudaPlan& plan, Communicator& nccl, Communicator& host, NeighborhoodSource neighbors,
    int max_degree, const AlgorithmOptions& options) {
  if (options.aldsgd_form != AldsgdForm::kCode) {
    return absl::UnimplementedError(
        "aldsgd on the GPU: only the code form (--aldsgd_form=code) so far");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<NcclTrainingStep> step,
                   WithNeighbors(Kind::kAldsgd, plan, nccl, std::move(neighbors), max_degree,
                                 options));
  const bool needs_leaders = options.c1 != 0 || options.c2 != 0 || options.p1 != 0 ||
                             options.p2 != 0;
  if (needs_leaders) {
    step->scalars_ = std::make_unique<NeighborExchange>(&host, ExchangeKind::kScalars,
                                                        step->my_scalars_.size(), 1,
                                                        &step->stats_);
  }
  return step;
}

absl::StatusOr<std::unique_ptr<NcclTrainingStep>> NcclTrainingStep::WithNeighbors(
    Kind kind, CudaPlan& plan, Communicator& nccl, NeighborhoodSource neighbors, int max_degree,
    const AlgorithmOptions& options) {
  if (!neighbors) return absl::InvalidArgumentError("decentralized GPU step: no neighbourhoods");
  if (options.combine != CombineOrder::kAdaptThenCombine) {
    return absl::UnimplementedError(
        "decentralized GPU step: only adapt-then-combine (--combine=atc) so far");
  }
  // The combine's weighted sum takes the own model and at most this many neighbours' models.
  if (max_degree < 0 || max_degree + 1 > kernels::kMaxWeightedSumInputs) {
    return absl::InvalidArgumentError(
        absl::StrCat("decentralized GPU step: a degree of ", max_degree,
                     " is beyond the combine kernel's ", kernels::kMaxWeightedSumInputs - 1,
                     " neighbours"));
  }
  std::unique_ptr<NcclTrainingStep> step(new NcclTrainingStep(plan, nccl, kind, options));
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
  switch (kind_) {
    case Kind::kAllReduce: return "allreduce (GPU)";
    case Kind::kDecentralized: return "decentralized (GPU)";
    case Kind::kAldsgd: return "aldsgd (GPU)";
  }
  return "?";
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
  if (kind_ != Kind::kAllReduce) {
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
    loss_known_ = false;
    if (scalars_ != nullptr) scalars_->Begin(neighborhood_.neighbors);
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
  if (kind_ == Kind::kAllReduce) {
    RETURN_IF_ERROR(EnqueueAllReduceAverage(nccl_, plan_.gradients() + b.offset, b.size, stream));
    // A ring all-reduce sends about twice the data, whatever the number of ranks.
    stats_.bytes_sent += static_cast<int64_t>(2 * b.size * sizeof(float));
    ++stats_.messages_sent;
    RETURN_IF_ERROR(plan_.SgdStepBucket(sgd_, bucket, stream));
  } else {
    RETURN_IF_ERROR(plan_.SgdStepBucket(sgd_, bucket, stream));
    RETURN_IF_ERROR(Exchange(bucket));
    // AL-DSGD's weights wait for the neighbours' losses: its combines are enqueued at EndStep.
    if (kind_ == Kind::kAldsgd) return absl::OkStatus();
    RETURN_IF_ERROR(Mix(bucket, weights_));
  }
  return MarkCombined(bucket);
}

absl::Status NcclTrainingStep::MarkCombined(int bucket) {
  RETURN_IF_CUDA_ERROR(cudaEventRecord(combined_[bucket].get(), plan_.comm_stream()));
  pending_[bucket] = true;
  return absl::OkStatus();
}

absl::Status NcclTrainingStep::Exchange(int bucket) {
  const int degree = neighborhood_.degree();
  if (degree == 0) return absl::OkStatus();  // nobody active this step
  const Bucket& b = plan_.buckets()[bucket];
  float* params = plan_.parameters() + b.offset;
  std::vector<NcclTransfer> transfers;
  for (int k = 0; k < degree; ++k) {
    const int peer = neighborhood_.neighbors[k].rank;
    transfers.push_back({.send = true, .peer = peer, .data = params, .count = b.size});
    transfers.push_back({.send = false, .peer = peer, .data = Slot(k) + b.offset, .count = b.size});
    stats_.bytes_sent += static_cast<int64_t>(b.size * sizeof(float));
    ++stats_.messages_sent;
  }
  absl::Status exchanged = EnqueueExchange(nccl_, transfers, plan_.comm_stream());
  if (!exchanged.ok()) {
    return absl::Status(exchanged.code(),
                        absl::StrCat("bucket ", bucket, ": ", exchanged.message()));
  }
  return absl::OkStatus();
}

absl::Status NcclTrainingStep::Mix(int bucket, std::span<const float> weights) {
  const int degree = neighborhood_.degree();
  if (degree == 0) return absl::OkStatus();  // y is the new x
  const Bucket& b = plan_.buckets()[bucket];
  float* params = plan_.parameters() + b.offset;
  std::vector<const float*> inputs = {params};
  for (int k = 0; k < degree; ++k) inputs.push_back(Slot(k) + b.offset);
  return WeightedSum(weights, inputs, static_cast<int64_t>(b.size), params, plan_.comm_stream());
}

absl::Status NcclTrainingStep::OnLoss(float loss) {
  if (kind_ != Kind::kAldsgd) return absl::OkStatus();
  my_scalars_ = {loss, static_cast<float>(neighborhood_.degree())};
  loss_known_ = true;
  if (scalars_ != nullptr && neighborhood_.degree() > 0) {
    scalars_->Post(0, BucketSpan{0, my_scalars_.size()}, my_scalars_);
  }
  return absl::OkStatus();
}

absl::Status NcclTrainingStep::CombineAldsgd() {
  std::vector<double> weights = {neighborhood_.self_weight};
  for (const ActiveNeighbor& neighbor : neighborhood_.neighbors) weights.push_back(neighbor.weight);
  if (neighborhood_.degree() > 0 && scalars_ != nullptr) {
    if (!loss_known_) {
      return absl::FailedPreconditionError(
          "aldsgd (GPU): the adjacent leader needs this step's loss, but OnLoss was not called");
    }
    RETURN_IF_ERROR(scalars_->WaitAll());
    std::vector<float> losses = {my_scalars_[0]};
    std::vector<int> degrees = {neighborhood_.degree()};
    for (int k = 0; k < scalars_->num_neighbors(); ++k) {
      losses.push_back(scalars_->received(k)[0]);
      degrees.push_back(static_cast<int>(scalars_->received(k)[1]));
    }
    // The code form's boost and pull, folded into the combine's weights as on the CPU.
    FoldLeaderWeights(ChooseLeaders(losses, degrees), options_.c1, options_.c2, options_.p1,
                      options_.p2, weights);
  }
  weights_.assign(weights.begin(), weights.end());
  for (int b = 0; b < plan_.num_buckets(); ++b) {
    RETURN_IF_ERROR(Mix(b, weights_));
    RETURN_IF_ERROR(MarkCombined(b));
  }
  return absl::OkStatus();
}

absl::Status NcclTrainingStep::OnBucketNeeded(int bucket) {
  if (!pending_[bucket]) return absl::OkStatus();
  RETURN_IF_CUDA_ERROR(
      cudaStreamWaitEvent(plan_.compute_stream(), combined_[bucket].get(), 0));
  pending_[bucket] = false;
  return absl::OkStatus();
}

absl::Status NcclTrainingStep::EndStep() {
  in_step_ = false;
  if (kind_ == Kind::kAldsgd) RETURN_IF_ERROR(CombineAldsgd());
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
