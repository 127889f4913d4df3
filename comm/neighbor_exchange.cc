#include "comm/neighbor_exchange.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace ald {
namespace {

const char* KindName(ExchangeKind kind) {
  switch (kind) {
    case ExchangeKind::kModel:
      return "model";
    case ExchangeKind::kPreStepModel:
      return "pre-step model";
    case ExchangeKind::kScalars:
      return "scalars";
  }
  return "unknown";
}

}  // namespace

NeighborExchange::NeighborExchange(Communicator* comm, ExchangeKind kind, size_t length,
                                   int num_buckets, CommStats* stats, WireFormat wire,
                                   uint64_t rounding_seed)
    : comm_(comm),
      kind_(kind),
      length_(length),
      stats_(stats),
      wire_(wire),
      rounding_seed_(rounding_seed),
      requests_(num_buckets),
      transfers_(num_buckets) {
  if (IsBf16(wire_)) {
    sent_words_.resize(length_);
    posted_spans_.resize(num_buckets);
  }
}

void NeighborExchange::Begin(std::span<const ActiveNeighbor> neighbors, int64_t step) {
  neighbors_.assign(neighbors.begin(), neighbors.end());
  while (received_.size() < neighbors_.size()) received_.emplace_back(length_, 0.0f);
  if (IsBf16(wire_)) {
    // Models only: the scalars' exchange is never rounded.
    const WireStream stream =
        kind_ == ExchangeKind::kPreStepModel ? WireStream::kPreStepModel : WireStream::kModel;
    rounding_key_ = WireRoundingKey(rounding_seed_, step, comm_->rank(), stream);
    while (received_words_.size() < neighbors_.size()) received_words_.emplace_back(length_, 0);
  }
  for (std::vector<Request>& requests : requests_) requests.clear();
  for (std::vector<LaneTraceEvent>& transfers : transfers_) transfers.clear();
  open_.clear();
}

LaneTraceEvent NeighborExchange::TraceTransfer(const char* direction, int bucket, int peer,
                                               size_t bytes) {
  return LaneTraceEvent(trace_, trace_pid_, direction, "comm",
                        {{"bucket", bucket}, {"peer", peer}, {"bytes", bytes},
                         {"kind", KindName(kind_)}});
}

absl::Status NeighborExchange::Post(int bucket, BucketSpan span, std::span<const float> mine) {
  // Every worker has the same layout, so both sides skip an empty span.
  if (span.size == 0) return absl::OkStatus();
  if (trace_ != nullptr) ObserveCompletions();
  const int tag = ExchangeTag(kind_, bucket);
  const std::span<const float> slice = mine.subspan(span.offset, span.size);
  const bool bf16 = IsBf16(wire_);
  // Packed once for all neighbours; the sends read it until the bucket is waited for.
  std::span<const std::byte> payload = std::as_bytes(slice);
  if (bf16) {
    const std::span<uint16_t> packed = std::span(sent_words_).subspan(span.offset, span.size);
    PackForWire(wire_, slice, packed, WireRounding{rounding_key_, span.offset});
    payload = std::as_bytes(packed);
    posted_spans_[bucket] = span;
  }
  std::vector<Request>& requests = requests_[bucket];
  for (size_t k = 0; k < neighbors_.size(); ++k) {
    const int peer = neighbors_[k].rank;
    if (trace_ != nullptr) {
      // Index-aligned with the requests, which may predate the trace.
      transfers_[bucket].resize(requests.size());
      open_.emplace_back(bucket, requests.size());
      transfers_[bucket].push_back(TraceTransfer("recv", bucket, peer, payload.size()));
      open_.emplace_back(bucket, requests.size() + 1);
      transfers_[bucket].push_back(TraceTransfer("send", bucket, peer, payload.size()));
    }
    const std::span<std::byte> into =
        bf16 ? std::as_writable_bytes(
                   std::span(received_words_[k]).subspan(span.offset, span.size))
             : std::as_writable_bytes(std::span(received_[k]).subspan(span.offset, span.size));
    requests.push_back(comm_->Irecv(peer, tag, into));
    requests.push_back(comm_->Isend(peer, tag, payload, SendPriority(kind_, bucket)));
    stats_->bytes_sent += static_cast<int64_t>(payload.size());
    stats_->messages_sent += 1;
  }
  return absl::OkStatus();
}

void NeighborExchange::UnpackReceived(int bucket) {
  const BucketSpan span = posted_spans_[bucket];
  for (size_t k = 0; k < neighbors_.size(); ++k) {
    UnpackBf16(std::span<const uint16_t>(received_words_[k]).subspan(span.offset, span.size),
               std::span(received_[k]).subspan(span.offset, span.size));
  }
}

void NeighborExchange::ObserveCompletions() {
  std::erase_if(open_, [this](const std::pair<int, size_t>& transfer) {
    const auto [bucket, index] = transfer;
    Request& request = requests_[bucket][index];
    if (!request.Test()) return false;
    // Where the backend timed the completion (MPI), the event ends there, not at this test.
    const std::optional<absl::Time> completed = request.completion_time();
    transfers_[bucket][index].EndAgo(completed ? absl::Now() - *completed : absl::ZeroDuration());
    return true;
  });
}

void NeighborExchange::ForgetTransfers(int bucket) {
  std::erase_if(open_, [bucket](const std::pair<int, size_t>& transfer) {
    return transfer.first == bucket;
  });
  transfers_[bucket].clear();  // events not ended (a failed wait) are dropped, not recorded
}

absl::Status NeighborExchange::WaitBucket(int bucket, absl::Duration timeout) {
  // The compute thread is blocked here, so the wait is drawn on it.
  ScopedTraceEvent wait(trace_, trace_pid_, kComputeTid, "wait", "wait",
                        {{"bucket", bucket}, {"kind", KindName(kind_)}});
  const absl::Time start = absl::Now();
  const bool posted = !requests_[bucket].empty();
  absl::Status status = ald::WaitAll(std::span<Request>(requests_[bucket]), timeout);
  stats_->wait_seconds += absl::ToDoubleSeconds(absl::Now() - start);
  wait.End();
  if (status.ok() && posted && IsBf16(wire_)) UnpackReceived(bucket);
  if (trace_ != nullptr) ObserveCompletions();
  ForgetTransfers(bucket);
  requests_[bucket].clear();
  return status;
}

absl::Status NeighborExchange::Wait(int bucket) { return WaitBucket(bucket, comm_->timeout()); }

absl::Status NeighborExchange::WaitAll() {
  // Transfers that finished while backward ran end now, not after the earlier buckets' waits.
  if (trace_ != nullptr) ObserveCompletions();
  // One deadline for the whole step, not one per bucket: a silent peer fails after the timeout.
  const absl::Time deadline = absl::Now() + comm_->timeout();
  for (size_t bucket = 0; bucket < requests_.size(); ++bucket) {
    if (requests_[bucket].empty()) continue;
    const absl::Duration left = std::max(deadline - absl::Now(), absl::ZeroDuration());
    absl::Status status = WaitBucket(static_cast<int>(bucket), left);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace ald
