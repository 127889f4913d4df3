#include "comm/algorithms/easgd.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "comm/algorithms/registry.h"
#include "comm/algorithms/counted_collectives.h"
#include "comm/algorithms/worker_buffers.h"
#include "core/status.h"

namespace ald {

Easgd::Easgd(const AlgorithmContext& context, PulledSgdStep pulled_step,
             std::vector<std::unique_ptr<cpu::WeightedSumCpu>> center_update)
    : comm_(*context.comm),
      buffers_(context.buffers),
      options_(context.options),
      alpha_(static_cast<float>(context.options.easgd_beta / context.comm->size())),
      pulled_step_(std::move(pulled_step)),
      center_update_(std::move(center_update)),
      center_(context.buffers.params.size()),
      mean_(context.buffers.params.size()) {}

absl::StatusOr<std::unique_ptr<Easgd>> Easgd::Create(const AlgorithmContext& context) {
  if (context.comm == nullptr) return absl::InvalidArgumentError("easgd: no communicator");
  RETURN_IF_ERROR(CheckWorkerBuffers(context.buffers, "easgd"));
  const double beta = context.options.easgd_beta;
  if (!(beta >= 0.0 && beta <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("easgd: the moving rate beta must be in [0, 1], got ", beta));
  }
  if (context.options.tau < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("easgd: the communication period tau must be at least 1, got ",
                     context.options.tau));
  }
  ASSIGN_OR_RETURN(PulledSgdStep pulled_step, PulledSgdStep::Create(context.buffers));
  ASSIGN_OR_RETURN(auto center_update, BucketKernels(context.buffers, 2));
  return std::unique_ptr<Easgd>(
      new Easgd(context, std::move(pulled_step), std::move(center_update)));
}

absl::Status Easgd::Start() {
  RETURN_IF_ERROR(StartFromRankZero(comm_, buffers_, options_, stats_));
  std::copy(buffers_.params.begin(), buffers_.params.end(), center_.begin());
  if (options_.sync_init) return absl::OkStatus();
  return CountedAllReduce(comm_, center_, ReduceOp::kAverage, stats_);
}

absl::Status Easgd::BeginStep(int64_t step, const LocalStep& local) {
  ASSIGN_OR_RETURN(config_, ToSgdConfig(local));
  communicate_ = step % options_.tau == 0;
  rounding_key_ = WireRoundingKey(options_.seed, step, comm_.rank(), WireStream::kEasgdMean);
  return absl::OkStatus();
}

absl::Status Easgd::UpdateAndPost(int bucket) {
  RETURN_IF_ERROR(CheckBucket(buffers_, bucket, "easgd"));
  if (!communicate_) {
    const ScopedTraceEvent update = TraceUpdate(bucket);
    return SgdStepOn(config_, BucketOf(buffers_, bucket));
  }
  const BucketSpan& span = buffers_.buckets[bucket];
  const std::span<float> params = BucketOf(buffers_, bucket).params;
  const std::span<float> mean = std::span(mean_).subspan(span.offset, span.size);
  const std::span<float> center = std::span(center_).subspan(span.offset, span.size);
  // The bucket's parameters are still x^t here: its update happens below, after the mean.
  std::copy(params.begin(), params.end(), mean.begin());
  // On a bf16 wire every model in the mean is rounded, this worker's too: the center is shared,
  // and every worker must compute the same bits of it.
  RETURN_IF_ERROR(CountedAllReduce(comm_, mean, ReduceOp::kAverage, stats_, trace_, trace_pid_,
                                   options_.wire, WireRounding{rounding_key_, span.offset}));
  const ScopedTraceEvent update = TraceUpdate(bucket);
  RETURN_IF_ERROR(pulled_step_.Run(config_, buffers_, bucket, center, alpha_));
  const float beta = static_cast<float>(options_.easgd_beta);
  const std::array<float, 2> weights = {1.0f - beta, beta};
  const std::array<std::span<const float>, 2> inputs = {center, mean};
  return center_update_[bucket]->Run(weights, inputs, center);
}

std::vector<AlgorithmStateTensor> Easgd::State() {
  const int64_t n = static_cast<int64_t>(center_.size());
  return {{"easgd/center", *Tensor::Wrap(center_.data(), center_.size() * sizeof(float),
                                         Shape{n}, DType::kF32)}};
}

absl::StatusOr<std::unique_ptr<Algorithm>> MakeEasgd(const AlgorithmContext& context) {
  ASSIGN_OR_RETURN(std::unique_ptr<Easgd> algorithm, Easgd::Create(context));
  return std::unique_ptr<Algorithm>(std::move(algorithm));
}

}  // namespace ald
