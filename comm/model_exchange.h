// A pairwise exchange of one flat buffer with this step's active neighbours, whatever memory it
// lives in: the host's NeighborExchange (requests waited for on the host) or a GPU's (NCCL on a
// stream, ordered by the stream, never waited for on the host). The decentralized algorithms
// are written against it, so one rule runs on either.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "comm/topology/topology.h"
#include "comm/transfer.h"
#include "core/trace.h"

namespace ald {

class ModelExchange {
 public:
  virtual ~ModelExchange() = default;
  // Step `step` with these neighbours, in exchange order (the step keys a bf16 wire's
  // stochastic rounding, comm/wire_format.h).
  virtual void Begin(std::span<const ActiveNeighbor> neighbors, int64_t step) = 0;
  // Sends `mine`'s slice `span` to every neighbour and receives each neighbour's slice into its
  // buffer at the same offset, as message `message`. `mine` must stay unchanged until the
  // message has been waited for.
  virtual absl::Status Post(int message, BucketSpan span, std::span<const float> mine) = 0;
  // After it, message `message` (or every message) has arrived: received() may be read, on the
  // host or, for a GPU exchange, by work enqueued after it.
  virtual absl::Status Wait(int message) = 0;
  virtual absl::Status WaitAll() = 0;
  virtual int num_neighbors() const = 0;
  // What neighbour `index` (in exchange order) sent, as a full-length buffer.
  virtual std::span<const float> received(int index) const = 0;
  virtual void SetTrace(Trace* /*trace*/, int /*pid*/) {}
};

}  // namespace ald
