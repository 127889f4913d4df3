#include "comm/algorithms/lsgd.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "comm/algorithms/registry.h"
#include "comm/algorithms/counted_collectives.h"
#include "comm/algorithms/worker_buffers.h"
#include "core/status.h"

namespace ald {
namespace {

// The lowest value's index, ties to the lowest index; NaN loses to every number.
int LowestRank(const std::vector<float>& averages) {
  int best = 0;
  for (int rank = 1; rank < static_cast<int>(averages.size()); ++rank) {
    if (averages[rank] < averages[best] ||
        (std::isnan(averages[best]) && !std::isnan(averages[rank]))) {
      best = rank;
    }
  }
  return best;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Lsgd>> Lsgd::Create(const AlgorithmContext& context) {
  if (context.comm == nullptr) return absl::InvalidArgumentError("lsgd: no communicator");
  RETURN_IF_ERROR(CheckWorkerBuffers(context.buffers, "lsgd"));
  if (!(context.options.lsgd_lambda >= 0.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lsgd: the pull strength lambda must be >= 0, got ", context.options.lsgd_lambda));
  }
  if (context.options.tau < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lsgd: the election period tau must be at least 1, got ", context.options.tau));
  }
  ASSIGN_OR_RETURN(PulledSgdStep pulled_step, PulledSgdStep::Create(context.buffers));
  return std::unique_ptr<Lsgd>(new Lsgd(context, std::move(pulled_step)));
}

absl::Status Lsgd::Start() { return StartFromRankZero(comm_, buffers_, options_, stats_); }

absl::Status Lsgd::BeginStep(int64_t step, const LocalStep& local) {
  ASSIGN_OR_RETURN(config_, ToSgdConfig(local));
  step_ = step;
  // Every worker sees the same steps, so all agree on the election steps without talking.
  electing_ = election_[0] < 0 || step % options_.tau == 0;
  elected_ = false;
  return absl::OkStatus();
}

absl::Status Lsgd::ShareLoss(float loss) {
  loss_sum_[0] += loss;
  ++election_[1];
  if (!electing_ || elected_) return absl::OkStatus();
  std::fill(averages_.begin(), averages_.end(), 0.0f);
  averages_[comm_.rank()] = loss_sum_[0] / static_cast<float>(election_[1]);
  // x + 0 is exact, so the sum hands every worker every average bit for bit.
  RETURN_IF_ERROR(CountedAllReduce(comm_, averages_, ReduceOp::kSum, stats_, trace_, trace_pid_));
  election_ = {LowestRank(averages_), 0};
  loss_sum_[0] = 0.0f;
  elected_ = true;
  return absl::OkStatus();
}

absl::Status Lsgd::UpdateAndPost(int bucket) {
  RETURN_IF_ERROR(CheckBucket(buffers_, bucket, "lsgd"));
  const BucketSpan& span = buffers_.buckets[bucket];
  const std::span<float> copy = std::span(leader_copy_).subspan(span.offset, span.size);
  if (electing_) {
    if (!elected_) {
      return absl::FailedPreconditionError(
          absl::StrCat("lsgd: step ", step_, " elects a leader, but ShareLoss was not called ",
                       "before bucket ", bucket, " was ready"));
    }
    // The leader's bucket is still pre-step here: it is updated below, after the broadcast.
    if (comm_.rank() == election_[0]) {
      const std::span<const float> params = BucketOf(buffers_, bucket).params;
      std::copy(params.begin(), params.end(), copy.begin());
    }
    // On a bf16 wire the others receive the leader's model rounded; the leader keeps its own.
    const WireRounding rounding{
        WireRoundingKey(options_.seed, step_, comm_.rank(), WireStream::kLsgdLeader),
        span.offset};
    RETURN_IF_ERROR(CountedBroadcast(comm_, copy, election_[0], stats_, trace_, trace_pid_,
                                     options_.wire, rounding));
  }
  const ScopedTraceEvent update = TraceUpdate(bucket);
  return pulled_step_.Run(config_, buffers_, bucket, copy,
                          static_cast<float>(options_.lsgd_lambda));
}

std::vector<AlgorithmStateTensor> Lsgd::State() {
  const int64_t n = static_cast<int64_t>(leader_copy_.size());
  return {{"lsgd/leader_copy", *Tensor::Wrap(leader_copy_.data(), n * sizeof(float), Shape{n},
                                             DType::kF32)},
          {"lsgd/election", *Tensor::Wrap(election_.data(), sizeof(election_), Shape{2},
                                          DType::kI32)},
          {"lsgd/loss_sum", *Tensor::Wrap(loss_sum_.data(), sizeof(loss_sum_), Shape{1},
                                          DType::kF32)}};
}

absl::StatusOr<std::unique_ptr<Algorithm>> MakeLsgd(const AlgorithmContext& context) {
  ASSIGN_OR_RETURN(std::unique_ptr<Lsgd> algorithm, Lsgd::Create(context));
  return std::unique_ptr<Algorithm>(std::move(algorithm));
}

}  // namespace ald
