// One kind of non-blocking pairwise exchange with this step's active neighbours (models, pre-step
// models, or AL-DSGD's loss and degree), received into one buffer per neighbour, in fp32 or, to
// halve the bytes, in bf16 (comm/wire_format.h).
#pragma once

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "comm/communicator.h"
#include "comm/model_exchange.h"
#include "comm/topology/topology.h"
#include "comm/transfer.h"
#include "comm/wire_format.h"
#include "core/trace.h"

namespace ald {

// What a message carries. With the bucket it makes the tag, so that kinds never match each
// other; between one pair of ranks, equal tags match in posting order across steps.
enum class ExchangeKind { kModel = 0, kPreStepModel = 1, kScalars = 2 };
inline constexpr int kNumExchangeKinds = 3;
inline int ExchangeTag(ExchangeKind kind, int bucket) {
  return bucket * kNumExchangeKinds + static_cast<int>(kind);
}
// Which of a peer's queued sends goes first (Communicator::Isend): the next forward needs the
// models' last bucket (the first layers) first; the paper form's pre-step models are needed by
// the backward, bucket 0 first.
inline int SendPriority(ExchangeKind kind, int bucket) {
  return kind == ExchangeKind::kPreStepModel ? -bucket : bucket;
}

class NeighborExchange final : public ModelExchange {
 public:
  // Buffers of `length` floats per neighbour, laid out like the sender's buffer, so a bucket's
  // slice of a neighbour's model lies at the bucket's own offset. `stats` (not owned) counts
  // what is sent (in wire bytes) and the time spent waiting. With `wire` bf16, what a
  // neighbour sent is received rounded to bf16 (and widened back to floats once its bucket has
  // been waited for); what this worker holds itself is never rounded. `rounding_seed` (the
  // run's seed) keys bf16's stochastic rounding, with the step, this rank and `kind`.
  NeighborExchange(Communicator* comm, ExchangeKind kind, size_t length, int num_buckets,
                   CommStats* stats, WireFormat wire = WireFormat::kFp32,
                   uint64_t rounding_seed = 0);

  // Step `step` with these neighbours, in exchange order. Requests of an earlier step that are
  // still in flight (only after an error) are dropped, which cancels them.
  void Begin(std::span<const ActiveNeighbor> neighbors, int64_t step) override;
  // Sends `mine`'s slice `span` to every neighbour and receives each neighbour's slice into its
  // buffer at the same offset. `mine` must stay unchanged until the bucket has been waited for.
  absl::Status Post(int bucket, BucketSpan span, std::span<const float> mine) override;
  // Waits for the sends and receives of one bucket (or of all): the first failure names the
  // peer; a peer that never answers fails after the communicator's timeout.
  absl::Status Wait(int bucket) override;
  absl::Status WaitAll() override;

  int num_neighbors() const override { return static_cast<int>(neighbors_.size()); }
  // What neighbour `index` (in exchange order) sent, as a full-length buffer.
  std::span<const float> received(int index) const override { return received_[index]; }

  // Records each send and receive ("comm", args bucket, peer, bytes, kind) from its post to
  // its completion: where the backend timed it (MPI's progress thread), there; otherwise the
  // first Test or wait that finds it done (posts and waits test what is in flight, only while
  // tracing). Waits are "wait" events on the compute thread.
  void SetTrace(Trace* trace, int pid) override {
    trace_ = trace;
    trace_pid_ = pid;
  }

 private:
  absl::Status WaitBucket(int bucket, absl::Duration timeout);
  LaneTraceEvent TraceTransfer(const char* direction, int bucket, int peer, size_t bytes);
  // Ends the event of every traced transfer that has finished (Test never blocks).
  void ObserveCompletions();
  // Forgets the traced transfers of `bucket` (its requests are being dropped).
  void ForgetTransfers(int bucket);
  // bf16 wire: widens what every neighbour sent of `bucket` into its received_ buffer.
  void UnpackReceived(int bucket);

  Communicator* comm_;
  ExchangeKind kind_;
  size_t length_;
  CommStats* stats_;
  WireFormat wire_;
  uint64_t rounding_seed_;
  uint64_t rounding_key_ = 0;  // this step's (bf16 wire only)
  std::vector<ActiveNeighbor> neighbors_;
  // One per neighbour slot; grown when a step has more neighbours than any before, so a steady
  // state step does not allocate.
  std::vector<std::vector<float>> received_;
  std::vector<std::vector<Request>> requests_;  // per bucket
  // bf16 wire only: this worker's packed model (each bucket at its own offset, read by the
  // sends until the bucket is waited for), one packed buffer per neighbour slot that the
  // receives fill, and each bucket's span as posted, for the unpack.
  std::vector<uint16_t> sent_words_;
  std::vector<std::vector<uint16_t>> received_words_;
  std::vector<BucketSpan> posted_spans_;

  Trace* trace_ = nullptr;
  int trace_pid_ = 0;
  std::vector<std::vector<LaneTraceEvent>> transfers_;  // per bucket, beside requests_
  std::vector<std::pair<int, size_t>> open_;            // (bucket, index) still in flight
};

}  // namespace ald
