#include "comm/neighbor_exchange.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace ald {

NeighborExchange::NeighborExchange(Communicator* comm, ExchangeKind kind, size_t length,
                                   int num_buckets, CommStats* stats)
    : comm_(comm), kind_(kind), length_(length), stats_(stats), requests_(num_buckets) {}

void NeighborExchange::Begin(std::span<const ActiveNeighbor> neighbors) {
  neighbors_.assign(neighbors.begin(), neighbors.end());
  while (received_.size() < neighbors_.size()) received_.emplace_back(length_, 0.0f);
  for (std::vector<Request>& requests : requests_) requests.clear();
}

void NeighborExchange::Post(int bucket, BucketSpan span, std::span<const float> mine) {
  if (span.size == 0) return;  // every worker has the same layout, so both sides skip it
  const int tag = ExchangeTag(kind_, bucket);
  const std::span<const float> slice = mine.subspan(span.offset, span.size);
  std::vector<Request>& requests = requests_[bucket];
  for (size_t k = 0; k < neighbors_.size(); ++k) {
    const int peer = neighbors_[k].rank;
    requests.push_back(
        comm_->Irecv(peer, tag, std::span<float>(received_[k]).subspan(span.offset, span.size)));
    requests.push_back(comm_->Isend(peer, tag, slice));
    stats_->bytes_sent += static_cast<int64_t>(slice.size_bytes());
    stats_->messages_sent += 1;
  }
}

absl::Status NeighborExchange::WaitBucket(int bucket, absl::Duration timeout) {
  const absl::Time start = absl::Now();
  absl::Status status = ald::WaitAll(std::span<Request>(requests_[bucket]), timeout);
  stats_->wait_seconds += absl::ToDoubleSeconds(absl::Now() - start);
  requests_[bucket].clear();
  return status;
}

absl::Status NeighborExchange::Wait(int bucket) { return WaitBucket(bucket, comm_->timeout()); }

absl::Status NeighborExchange::WaitAll() {
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
