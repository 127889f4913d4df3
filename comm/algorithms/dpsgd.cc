#include "comm/algorithms/dpsgd.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "comm/algorithms/registry.h"
#include "comm/algorithms/worker_buffers.h"
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
    return absl::InvalidArgumentError(absl::StrCat(
        algorithm, ": the context's communicator is the host's; device memory goes in its device"));
  }
  if (context.device != nullptr && context.device->memory() != DeviceType::kCpu &&
      context.options.wire != WireFormat::kFp32) {
    return absl::UnimplementedError(absl::StrCat(
        algorithm, " on the GPU: models travel in fp32 only so far (--wire=fp32)"));
  }
  if (context.device != nullptr && context.device->memory() != DeviceType::kCpu &&
      context.options.combine == CombineOrder::kAdaptWithCombine) {
    return absl::UnimplementedError(absl::StrCat(
        algorithm, " on the GPU: only adapt-then-combine (--combine=atc) so far"));
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
      neighborhoods_(context.neighborhoods),
      buffers_(context.buffers),
      options_(context.options),
      device_(DeviceOf(context, owned_device_)),
      exchange_spans_(ExchangeSpans(context)),
      models_(device_->CreateExchange(context.options.combine == CombineOrder::kAdaptWithCombine
                                          ? ExchangeKind::kPreStepModel
                                          : ExchangeKind::kModel,
                                      context.buffers.params.size(),
                                      static_cast<int>(exchange_spans_.size()), &stats_,
                                      context.options.wire, context.options.seed)) {}

absl::Status Dpsgd::Start() {
  if (!options_.sync_init || buffers_.params.empty()) return absl::OkStatus();
  return device_->Broadcast(buffers_.params, /*root=*/0, stats_, /*trace=*/nullptr, 0);
}

absl::Status Dpsgd::BeginStep(int64_t step, const LocalStep& local) {
  if (neighborhoods_) {
    ASSIGN_OR_RETURN(neighborhood_, neighborhoods_(step));
  } else {
    ASSIGN_OR_RETURN(neighborhood_, topology_->NeighborhoodAt(step, comm_->rank()));
  }
  local_ = local;
  step_ = step;
  exchange_begun_ = false;
  // Adapt-with-combine: x_t is final now, so its exchange starts here and runs under the whole
  // forward and backward. (Adapt-then-combine begins its exchange with bucket 0: until then the
  // previous step's deferred combines still read what it received.)
  return adapt_with_combine() ? PostPreStepModels() : absl::OkStatus();
}

absl::Status Dpsgd::PostPreStepModels() {
  models_->Begin(neighborhood_.neighbors, step_);
  exchange_begun_ = true;
  if (neighborhood_.degree() == 0) return absl::OkStatus();
  for (size_t message = 0; message < exchange_spans_.size(); ++message) {
    RETURN_IF_ERROR(
        models_->Post(static_cast<int>(message), exchange_spans_[message], buffers_.params));
  }
  return absl::OkStatus();
}

absl::Status Dpsgd::UpdateAndPost(int bucket) {
  RETURN_IF_ERROR(CheckBucket(buffers_, bucket, name_));
  // Adapt with combine: x_t is on its way; the local step happens in Combine.
  if (adapt_with_combine() && neighborhood_.degree() > 0) return absl::OkStatus();
  // The step's first ready bucket (the plan's order, not always 0) comes after the previous
  // step's combines have read what they received: only now may the exchange start over.
  if (!exchange_begun_) {
    models_->Begin(neighborhood_.neighbors, step_);
    exchange_begun_ = true;
  }
  ScopedTraceEvent update = TraceUpdate(bucket);
  RETURN_IF_ERROR(SgdBucket(bucket, local_.weight_decay));
  if (correction_) RETURN_IF_ERROR(correction_(bucket));
  update.End();
  if (neighborhood_.degree() == 0) return absl::OkStatus();
  return models_->Post(bucket, buffers_.buckets[bucket], buffers_.params);
}

std::vector<double> Dpsgd::MixingRow() const {
  std::vector<double> row = {neighborhood_.self_weight};
  for (const ActiveNeighbor& neighbor : neighborhood_.neighbors) row.push_back(neighbor.weight);
  return row;
}

absl::Status Dpsgd::EndStepWithWeights(std::span<const double> weights) {
  if (weights.size() != static_cast<size_t>(neighborhood_.degree()) + 1) {
    return absl::InvalidArgumentError(absl::StrCat(name_, ": ", weights.size(),
                                                   " combine weights for ",
                                                   neighborhood_.degree(), " neighbours"));
  }
  combine_weights_.assign(weights.begin(), weights.end());
  return absl::OkStatus();
}

absl::Status Dpsgd::Combine(int bucket) {
  // The weights EndStep fixed: the neighbourhood may already be the next step's (the combine
  // was deferred to the next forward). No neighbour: nothing was sent, and y is the next x.
  if (combine_weights_.size() <= 1) return absl::OkStatus();
  RETURN_IF_ERROR(CheckBucket(buffers_, bucket, name_));
  // Adapt-then-combine's messages are the buckets; adapt-with-combine's the whole model.
  RETURN_IF_ERROR(adapt_with_combine() ? models_->WaitAll() : models_->Wait(bucket));
  const BucketSpan& span = buffers_.buckets[bucket];
  if (span.size == 0) return absl::OkStatus();
  const ScopedTraceEvent combine(trace_, trace_pid_, kComputeTid, "combine", "compute",
                                 {{"bucket", bucket}});
  // Adapt-with-combine: the decay reads x_t, which the sum is about to replace.
  if (adapt_with_combine()) {
    RETURN_IF_ERROR(device_->AddWeightDecay(local_.weight_decay, Bucket(buffers_.params, bucket),
                                            Bucket(buffers_.grads, bucket)));
  }
  inputs_.clear();
  inputs_.push_back(Bucket(buffers_.params, bucket));
  for (size_t k = 0; k + 1 < combine_weights_.size(); ++k) {
    inputs_.push_back(models_->received(static_cast<int>(k)).subspan(span.offset, span.size));
  }
  RETURN_IF_ERROR(
      device_->WeightedSum(combine_weights_, inputs_, Bucket(buffers_.params, bucket)));
  if (!adapt_with_combine()) return absl::OkStatus();
  const ScopedTraceEvent update = TraceUpdate(bucket);
  return SgdBucket(bucket, /*weight_decay=*/0.0f);
}

void Dpsgd::SetTrace(Trace* trace, int pid) {
  Algorithm::SetTrace(trace, pid);
  models_->SetTrace(trace, pid);
}

absl::Status Dpsgd::SgdBucket(int bucket, float weight_decay) {
  const cpu::SgdConfig config{local_.lr, local_.momentum, local_.nesterov, weight_decay};
  const std::span<float> momentum =
      buffers_.momentum.empty() ? std::span<float>() : Bucket(buffers_.momentum, bucket);
  return device_->SgdStep(config, Bucket(buffers_.params, bucket), Bucket(buffers_.grads, bucket),
                          momentum);
}

absl::StatusOr<std::unique_ptr<Algorithm>> MakeDpsgd(const AlgorithmContext& context) {
  RETURN_IF_ERROR(Dpsgd::CheckContext(context, "dpsgd"));
  RETURN_IF_ERROR(Dpsgd::RequireScheme(context, Scheme::kStatic, "dpsgd"));
  return std::make_unique<Dpsgd>(context, "dpsgd");
}

}  // namespace ald
