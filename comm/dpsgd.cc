#include "comm/dpsgd.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "comm/algorithm_factories.h"
#include "comm/baseline_support.h"
#include "core/status.h"
#include "ops/sgd.h"

namespace ald {
namespace {

const char* SchemeName(Scheme scheme) { return scheme == Scheme::kStatic ? "static" : "matcha"; }

// Adapt-with-combine needs no bucket before the step's end, so its exchange is the whole model
// in as few messages as this cap allows: each message in a peer's send lane waits for the one
// before it to finish, and on busy cores every such hand-over leaves the link idle for a
// progress-thread wake-up and a rendezvous (measured: 19 buckets kept ResNet-20's link 82% busy
// where fewer than all lanes were sending). The cap keeps a message within MPI's int count.
constexpr size_t kMaxWholeModelMessageFloats = size_t{64} << 20;  // 256 MiB

std::vector<BucketSpan> ExchangeSpans(const AlgorithmContext& context) {
  if (context.options.combine != CombineOrder::kAdaptWithCombine) return context.buffers.buckets;
  std::vector<BucketSpan> spans;
  const size_t total = context.buffers.params.size();
  for (size_t offset = 0; offset < total; offset += kMaxWholeModelMessageFloats) {
    spans.push_back({offset, std::min(kMaxWholeModelMessageFloats, total - offset)});
  }
  return spans;
}

}  // namespace

absl::Status Dpsgd::CheckContext(const AlgorithmContext& context, const char* algorithm) {
  if (context.comm == nullptr || context.topology == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(algorithm, ": needs a communicator and a topology"));
  }
  if (context.topology->nodes() != context.comm->size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(algorithm, ": the topology has ", context.topology->nodes(),
                     " workers, the communicator ", context.comm->size()));
  }
  if (context.comm->memory() != DeviceType::kCpu) {
    return absl::InvalidArgumentError(
        absl::StrCat(algorithm, ": combines on the CPU, but the communicator needs device memory"));
  }
  const WorkerBuffers& buffers = context.buffers;
  const size_t n = buffers.params.size();
  if (buffers.grads.size() != n || (!buffers.momentum.empty() && buffers.momentum.size() != n)) {
    return absl::InvalidArgumentError(absl::StrCat(algorithm, ": ", n, " parameters but ",
                                                   buffers.grads.size(), " gradients and ",
                                                   buffers.momentum.size(), " momentum entries"));
  }
  size_t offset = 0;
  for (size_t b = 0; b < buffers.buckets.size(); ++b) {
    if (buffers.buckets[b].offset != offset) {
      return absl::InvalidArgumentError(absl::StrCat(algorithm, ": bucket ", b, " starts at ",
                                                     buffers.buckets[b].offset,
                                                     ", the previous bucket ends at ", offset));
    }
    offset += buffers.buckets[b].size;
  }
  if (offset != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(algorithm, ": the buckets cover ", offset, " of ", n, " parameters"));
  }
  return absl::OkStatus();
}

absl::Status Dpsgd::RequireScheme(const AlgorithmContext& context, Scheme scheme,
                                  const char* algorithm) {
  const Scheme actual = context.topology->options().scheme;
  if (actual == scheme) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(algorithm, " needs the ", SchemeName(scheme),
                                                    " topology scheme, but the topology uses ",
                                                    SchemeName(actual)));
}

Dpsgd::Dpsgd(const AlgorithmContext& context, const char* name)
    : name_(name),
      comm_(context.comm),
      topology_(context.topology),
      buffers_(context.buffers),
      options_(context.options),
      exchange_spans_(ExchangeSpans(context)),
      models_(context.comm,
              context.options.combine == CombineOrder::kAdaptWithCombine
                  ? ExchangeKind::kPreStepModel
                  : ExchangeKind::kModel,
              context.buffers.params.size(), static_cast<int>(exchange_spans_.size()), &stats_),
      deferred_(context.buffers.buckets.size(), false) {}

absl::Status Dpsgd::Start() {
  if (!options_.sync_init || buffers_.params.empty()) return absl::OkStatus();
  const absl::Time start = absl::Now();
  absl::Status status = comm_->Broadcast(buffers_.params, 0);
  stats_.wait_seconds += absl::ToDoubleSeconds(absl::Now() - start);
  return status;
}

absl::Status Dpsgd::BeginStep(int64_t step, const LocalStep& local) {
  ASSIGN_OR_RETURN(neighborhood_, topology_->NeighborhoodAt(step, comm_->rank()));
  local_ = local;
  ready_.assign(buffers_.buckets.size(), false);
  num_ready_ = 0;
  in_step_ = true;
  // The previous step's combines may still be pending here (the forward finishes them), so
  // the new exchange begins only with the first bucket.
  exchange_begun_ = false;
  // Adapt-with-combine: x_t is final now (EndStep never defers), so in a pipelined step its
  // exchange starts here and runs under the whole forward and backward.
  if (adapt_with_combine() && options_.defer_combine) return PostPreStepModels();
  return absl::OkStatus();
}

absl::Status Dpsgd::PostPreStepModels() {
  RETURN_IF_ERROR(BeginExchange());
  if (neighborhood_.degree() == 0) return absl::OkStatus();
  for (size_t message = 0; message < exchange_spans_.size(); ++message) {
    models_.Post(static_cast<int>(message), exchange_spans_[message], buffers_.params);
  }
  return absl::OkStatus();
}

absl::Status Dpsgd::BeginExchange() {
  if (exchange_begun_) return absl::OkStatus();
  // Normally a no-op: the forward has needed, and so combined, every bucket.
  RETURN_IF_ERROR(Flush());
  models_.Begin(neighborhood_.neighbors);
  exchange_begun_ = true;
  return absl::OkStatus();
}

absl::Status Dpsgd::OnLoss(float /*loss*/) { return absl::OkStatus(); }

absl::Status Dpsgd::OnBucketReady(int bucket) {
  if (!in_step_) {
    return absl::FailedPreconditionError(
        absl::StrCat(name_, ": bucket ", bucket, " is ready outside a step (no BeginStep)"));
  }
  RETURN_IF_ERROR(CheckBucket(buffers_, bucket, name_));
  if (ready_[bucket]) {
    return absl::FailedPreconditionError(
        absl::StrCat(name_, ": bucket ", bucket, " is ready twice in one step"));
  }
  ready_[bucket] = true;
  ++num_ready_;
  if (adapt_with_combine() && neighborhood_.degree() > 0) {
    // x_t is being sent (sequential: from now on), so the step waits for EndStep's combine.
    return exchange_begun_ ? absl::OkStatus() : PostPreStepModels();
  }
  RETURN_IF_ERROR(BeginExchange());
  ScopedTraceEvent update = TraceUpdate(bucket);
  RETURN_IF_ERROR(Adapt(bucket));
  update.End();
  if (neighborhood_.degree() > 0) models_.Post(bucket, buffers_.buckets[bucket], buffers_.params);
  return absl::OkStatus();
}

absl::Status Dpsgd::EndStep() {
  if (!in_step_) {
    return absl::FailedPreconditionError(absl::StrCat(name_, ": EndStep without BeginStep"));
  }
  in_step_ = false;
  if (num_ready_ != num_buckets()) {
    return absl::FailedPreconditionError(absl::StrCat(name_, ": the step ended with ", num_ready_,
                                                      " of ", num_buckets(), " buckets ready"));
  }
  // No active neighbour: nothing was sent, and y is the next x.
  if (neighborhood_.degree() == 0) return absl::OkStatus();

  weights_.clear();
  weights_.push_back(neighborhood_.self_weight);
  for (const ActiveNeighbor& neighbor : neighborhood_.neighbors) {
    weights_.push_back(neighbor.weight);
  }
  RETURN_IF_ERROR(CombineWeights(weights_));
  combine_weights_.assign(weights_.begin(), weights_.end());
  deferred_.assign(deferred_.size(), true);
  num_deferred_ = num_buckets();
  // Adapt-with-combine never defers: the next BeginStep sends x_{t+1}, all of it.
  return options_.defer_combine && !adapt_with_combine() ? absl::OkStatus() : Flush();
}

absl::Status Dpsgd::OnBucketNeeded(int bucket) {
  RETURN_IF_ERROR(CheckBucket(buffers_, bucket, name_));
  if (!deferred_[bucket]) return absl::OkStatus();
  // Only adapt-then-combine defers, and its messages are the buckets.
  RETURN_IF_ERROR(models_.Wait(bucket));
  return CombineBucket(bucket);
}

absl::Status Dpsgd::Flush() {
  if (num_deferred_ == 0) return absl::OkStatus();
  // One deadline for everything in flight, then the sums.
  RETURN_IF_ERROR(models_.WaitAll());
  for (int bucket = 0; bucket < num_buckets(); ++bucket) {
    if (deferred_[bucket]) RETURN_IF_ERROR(CombineBucket(bucket));
  }
  return absl::OkStatus();
}

absl::Status Dpsgd::CombineBucket(int bucket) {
  deferred_[bucket] = false;
  --num_deferred_;
  const BucketSpan& span = buffers_.buckets[bucket];
  if (span.size == 0) return absl::OkStatus();
  const ScopedTraceEvent combine(trace_, trace_pid_, kComputeTid, "combine", "compute",
                                 {{"bucket", bucket}});
  // Adapt-with-combine: the decay reads x_t, which the sum is about to replace.
  if (adapt_with_combine()) {
    RETURN_IF_ERROR(cpu::AddWeightDecay(local_.weight_decay, Bucket(buffers_.params, bucket),
                                        Bucket(buffers_.grads, bucket)));
  }
  inputs_.clear();
  inputs_.push_back(Bucket(buffers_.params, bucket));
  for (size_t k = 0; k + 1 < combine_weights_.size(); ++k) {
    inputs_.push_back(models_.received(static_cast<int>(k)).subspan(span.offset, span.size));
  }
  RETURN_IF_ERROR(WeightedSum(combine_weights_, inputs_, Bucket(buffers_.params, bucket)));
  if (!adapt_with_combine()) return absl::OkStatus();
  const ScopedTraceEvent update = TraceUpdate(bucket);
  return SgdBucket(bucket, /*weight_decay=*/0.0f);
}

void Dpsgd::SetTrace(Trace* trace, int pid) {
  Algorithm::SetTrace(trace, pid);
  models_.SetTrace(trace, pid);
}

absl::Status Dpsgd::Adapt(int bucket) { return SgdBucket(bucket, local_.weight_decay); }

absl::Status Dpsgd::SgdBucket(int bucket, float weight_decay) {
  const cpu::SgdConfig config{local_.lr, local_.momentum, local_.nesterov, weight_decay};
  const std::span<float> momentum =
      buffers_.momentum.empty() ? std::span<float>() : Bucket(buffers_.momentum, bucket);
  return cpu::SgdStep(config, Bucket(buffers_.params, bucket), Bucket(buffers_.grads, bucket),
                      momentum);
}

absl::Status Dpsgd::CombineWeights(std::vector<double>& /*weights*/) { return absl::OkStatus(); }

absl::Status Dpsgd::WeightedSum(std::span<const float> weights,
                                std::span<const std::span<const float>> inputs,
                                std::span<float> out) {
  const auto key =
      std::make_pair(static_cast<int>(inputs.size()), static_cast<int64_t>(out.size()));
  auto found = kernels_.find(key);
  if (found == kernels_.end()) {
    ASSIGN_OR_RETURN(std::unique_ptr<cpu::WeightedSumCpu> kernel,
                     cpu::WeightedSumCpu::Create(key.first, key.second));
    found = kernels_.emplace(key, std::move(kernel)).first;
  }
  return found->second->Run(weights, inputs, out);
}

absl::StatusOr<std::unique_ptr<Algorithm>> MakeDpsgd(const AlgorithmContext& context) {
  RETURN_IF_ERROR(Dpsgd::CheckContext(context, "dpsgd"));
  RETURN_IF_ERROR(Dpsgd::RequireScheme(context, Scheme::kStatic, "dpsgd"));
  return std::make_unique<Dpsgd>(context, "dpsgd");
}

}  // namespace ald
