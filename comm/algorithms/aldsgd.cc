#include "comm/algorithms/aldsgd.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "comm/algorithms/registry.h"
#include "comm/algorithms/worker_buffers.h"
#include "core/status.h"

namespace ald {

AldsgdLeaders ChooseLeaders(std::span<const float> losses, std::span<const int> degrees) {
  AldsgdLeaders leaders;
  // Strict comparisons keep the earliest of equals.
  for (size_t m = 1; m < losses.size(); ++m) {
    if (losses[m] < losses[leaders.loss_leader]) leaders.loss_leader = static_cast<int>(m);
  }
  for (size_t m = 1; m < degrees.size(); ++m) {
    if (degrees[m] > degrees[leaders.max_degree]) leaders.max_degree = static_cast<int>(m);
  }
  return leaders;
}

void FoldLeaderWeights(const AldsgdLeaders& leaders, double c1, double c2, double p1, double p2,
                       std::vector<double>& weights) {
  // x = (1 − p1 − p2)·z + p1·y_N + p2·y_tau with z = (1 − c1 − c2)·z0 + c1·y_N + c2·y_tau.
  const double keep_z = 1.0 - p1 - p2;
  const double keep_z0 = keep_z * (1.0 - c1 - c2);
  const double to_leader = keep_z * c1 + p1;
  const double to_max_degree = keep_z * c2 + p2;
  if (keep_z0 != 1.0) {
    for (double& weight : weights) weight *= keep_z0;
  }
  if (to_leader != 0.0) weights[leaders.loss_leader] += to_leader;
  if (to_max_degree != 0.0) weights[leaders.max_degree] += to_max_degree;
}

Aldsgd::Aldsgd(const AlgorithmContext& context)
    : needs_leaders_(context.options.c1 != 0 || context.options.c2 != 0 ||
                     context.options.p1 != 0 || context.options.p2 != 0),
      corrective_(context.options.aldsgd_form == AldsgdForm::kPaper &&
                  (context.options.p1 != 0 || context.options.p2 != 0)),
      base_(context, "aldsgd"),
      buffers_(context.buffers),
      options_(context.options),
      rank_(context.comm->rank()),
      scalars_(context.comm, ExchangeKind::kScalars, my_scalars_.size(), 1,
               &base_.mutable_stats()),
      pre_step_(base_.device().CreateExchange(ExchangeKind::kPreStepModel,
                                              corrective_ ? context.buffers.params.size() : 0,
                                              static_cast<int>(context.buffers.buckets.size()),
                                              &base_.mutable_stats(), context.options.wire,
                                              context.options.seed)) {
  if (!corrective_) return;
  // Device memory would need the device's allocator: the factory keeps the paper form on the host.
  pre_step_storage_.resize(context.buffers.params.size());
  pre_step_x_ = pre_step_storage_;
  base_.SetLocalStepCorrection([this](int bucket) { return PullTowardLeaders(bucket); });
}

absl::Status Aldsgd::BeginStep(int64_t step, const LocalStep& local) {
  RETURN_IF_ERROR(base_.BeginStep(step, local));
  loss_known_ = false;
  leaders_known_ = false;
  leaders_ = {};
  const Neighborhood& neighborhood = base_.neighborhood();
  scalars_.Begin(neighborhood.neighbors, step);
  if (corrective_) {
    // Posted now, so that the pre-step models travel while forward and backward run.
    pre_step_->Begin(neighborhood.neighbors, step);
    std::copy(buffers_.params.begin(), buffers_.params.end(), pre_step_x_.begin());
    if (neighborhood.degree() > 0) {
      for (int bucket = 0; bucket < static_cast<int>(buffers_.buckets.size()); ++bucket) {
        RETURN_IF_ERROR(pre_step_->Post(bucket, buffers_.buckets[bucket], pre_step_x_));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Aldsgd::ShareLoss(float loss) {
  if (loss_known_) {
    return absl::FailedPreconditionError("aldsgd: the loss was shared twice in one step");
  }
  loss_known_ = true;
  const Neighborhood& neighborhood = base_.neighborhood();
  const double beta = options_.leader_loss_beta;
  if (beta > 0) {
    // Every step, whether or not a neighbour is active: the average is of this worker's losses.
    loss_average_ = {loss_average_[1] == 0.0f
                         ? loss
                         : static_cast<float>(beta * loss_average_[0] + (1.0 - beta) * loss),
                     1.0f};
  }
  my_scalars_ = {beta > 0 ? loss_average_[0] : loss, static_cast<float>(neighborhood.degree())};
  if (needs_leaders_ && neighborhood.degree() > 0) {
    RETURN_IF_ERROR(scalars_.Post(0, BucketSpan{0, my_scalars_.size()}, my_scalars_));
  }
  return absl::OkStatus();
}

absl::Status Aldsgd::ResolveLeaders() {
  if (leaders_known_) return absl::OkStatus();
  const Neighborhood& neighborhood = base_.neighborhood();
  if (needs_leaders_ && neighborhood.degree() > 0) {
    if (!loss_known_) {
      return absl::FailedPreconditionError(
          "aldsgd: the adjacent leader needs this step's loss, but it was not shared");
    }
    RETURN_IF_ERROR(scalars_.WaitAll());
    losses_.assign(1, my_scalars_[0]);
    degrees_.assign(1, neighborhood.degree());
    for (int k = 0; k < scalars_.num_neighbors(); ++k) {
      losses_.push_back(scalars_.received(k)[0]);
      degrees_.push_back(static_cast<int>(scalars_.received(k)[1]));
    }
    leaders_ = ChooseLeaders(losses_, degrees_);
    CountLeaders();
  }
  leaders_known_ = true;
  return absl::OkStatus();
}

void Aldsgd::CountLeaders() {
  const Neighborhood& neighborhood = base_.neighborhood();
  const auto rank_at = [&](int position) {
    return position == 0 ? rank_ : neighborhood.neighbors[position - 1].rank;
  };
  const int loss_leader = rank_at(leaders_.loss_leader);
  const int degree_leader = rank_at(leaders_.max_degree);
  ++leader_counts_.steps;
  leader_counts_.loss_leader_changes +=
      previous_loss_leader_ >= 0 && loss_leader != previous_loss_leader_;
  leader_counts_.degree_leader_changes +=
      previous_degree_leader_ >= 0 && degree_leader != previous_degree_leader_;
  leader_counts_.own_loss_leader += leaders_.loss_leader == 0;
  leader_counts_.own_degree_leader += leaders_.max_degree == 0;
  previous_loss_leader_ = loss_leader;
  previous_degree_leader_ = degree_leader;
}

std::vector<AlgorithmStateTensor> Aldsgd::State() {
  if (options_.leader_loss_beta <= 0) return {};
  return {{"aldsgd/loss_average", *Tensor::Wrap(loss_average_.data(), sizeof(loss_average_),
                                                Shape{2}, DType::kF32)}};
}

absl::Status Aldsgd::PullTowardLeaders(int bucket) {
  if (base_.neighborhood().degree() == 0) return absl::OkStatus();
  RETURN_IF_ERROR(ResolveLeaders());
  // The corrective force −γ·p1·(x_i − x_N) − γ·p2·(x_i − x_tau); a leader that is i itself
  // pulls with zero force.
  const int leader = leaders_.loss_leader, max_degree = leaders_.max_degree;
  const double lr = base_.local_step().lr;
  const double to_leader = leader != 0 ? lr * options_.p1 : 0.0;
  const double to_max_degree = max_degree != 0 ? lr * options_.p2 : 0.0;
  if (to_leader == 0.0 && to_max_degree == 0.0) return absl::OkStatus();
  RETURN_IF_ERROR(pre_step_->Wait(bucket));

  const BucketSpan& span = buffers_.buckets[bucket];
  if (span.size == 0) return absl::OkStatus();
  const std::span<float> y = buffers_.params.subspan(span.offset, span.size);
  pull_weights_.assign({1.0f, static_cast<float>(-(to_leader + to_max_degree))});
  pull_inputs_.assign({y, pre_step_x_.subspan(span.offset, span.size)});
  auto pull_toward = [&](int member, double weight) {
    pull_weights_.push_back(static_cast<float>(weight));
    pull_inputs_.push_back(pre_step_->received(member - 1).subspan(span.offset, span.size));
  };
  if (leader == max_degree) {
    pull_toward(leader, to_leader + to_max_degree);
  } else {
    if (to_leader != 0.0) pull_toward(leader, to_leader);
    if (to_max_degree != 0.0) pull_toward(max_degree, to_max_degree);
  }
  return base_.device().WeightedSum(pull_weights_, pull_inputs_, y);
}

absl::Status Aldsgd::EndStep() {
  // The pre-step sends read pre_step_x_, which the next BeginStep overwrites.
  if (corrective_) RETURN_IF_ERROR(pre_step_->WaitAll());
  // No active neighbour: nothing was sent, and y is the next x.
  if (base_.neighborhood().degree() == 0) return base_.EndStep();
  RETURN_IF_ERROR(ResolveLeaders());
  std::vector<double> weights = base_.MixingRow();
  // In the paper form the pull already happened inside the local step.
  const bool paper = options_.aldsgd_form == AldsgdForm::kPaper;
  FoldLeaderWeights(leaders_, options_.c1, options_.c2, paper ? 0.0 : options_.p1,
                    paper ? 0.0 : options_.p2, weights);
  return base_.EndStepWithWeights(weights);
}

void Aldsgd::SetTrace(Trace* trace, int pid) {
  Algorithm::SetTrace(trace, pid);
  base_.SetTrace(trace, pid);
  scalars_.SetTrace(trace, pid);
  pre_step_->SetTrace(trace, pid);
}

absl::StatusOr<std::unique_ptr<Algorithm>> MakeAldsgd(const AlgorithmContext& context) {
  RETURN_IF_ERROR(Dpsgd::CheckContext(context, "aldsgd"));
  const AlgorithmOptions& o = context.options;
  if (!(o.leader_loss_beta >= 0 && o.leader_loss_beta < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "aldsgd: the leader loss's averaging weight must be in [0, 1), got ", o.leader_loss_beta));
  }
  for (const auto& [name, value] :
       {std::pair<const char*, double>{"c1", o.c1}, {"c2", o.c2}, {"p1", o.p1}, {"p2", o.p2}}) {
    if (!std::isfinite(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("aldsgd: coefficient ", name, " must be finite, got ", value));
    }
  }
  if (o.aldsgd_form == AldsgdForm::kPaper && context.device != nullptr &&
      context.device->memory() != DeviceType::kCpu) {
    return absl::UnimplementedError(
        "aldsgd on the GPU: only the code form (--aldsgd_form=code) so far");
  }
  if (o.combine == CombineOrder::kAdaptWithCombine && o.aldsgd_form == AldsgdForm::kPaper) {
    return absl::InvalidArgumentError(
        "aldsgd: the paper form combines the neighbours' stepped models, so it cannot adapt "
        "with combine; use the code form or adapt-then-combine");
  }
  return std::make_unique<Aldsgd>(context);
}

}  // namespace ald
