// What the algorithms share (the baselines all of it, D-PSGD the bucket check): buffer checks,
// bucket views, the local step, collectives that keep CommStats, the start from rank 0's model.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "comm/algorithm.h"
#include "comm/communicator.h"
#include "core/trace.h"
#include "ops/mixing.h"
#include "ops/sgd.h"

namespace ald {

// One bucket's slice of the three flat buffers.
struct BucketBuffers {
  std::span<float> params, grads, momentum;
};

// InvalidArgument naming `algorithm` unless params, grads and momentum have the same length and
// the buckets tile them in order without gaps (the hooks rely on both).
absl::Status CheckWorkerBuffers(const WorkerBuffers& buffers, const char* algorithm);
// InvalidArgument naming `algorithm` unless 0 <= bucket < number of buckets.
absl::Status CheckBucket(const WorkerBuffers& buffers, int bucket, const char* algorithm);
BucketBuffers BucketOf(const WorkerBuffers& buffers, int bucket);
// One weighted-sum kernel of `num_inputs` inputs per bucket (a kernel is built for one length).
absl::StatusOr<std::vector<std::unique_ptr<cpu::WeightedSumCpu>>> BucketKernels(
    const WorkerBuffers& buffers, int num_inputs);

// The local step as ops/sgd.h takes it, validated.
absl::StatusOr<cpu::SgdConfig> ToSgdConfig(const LocalStep& local);
// cpu::SgdStep on one bucket (the momentum slice only when momentum is on).
absl::Status SgdStepOn(const cpu::SgdConfig& config, const BucketBuffers& bucket);

// Runs `wait` (something that blocks on peers) and adds the time it took to
// stats.wait_seconds; with a trace, the time is also a "wait" event on worker `trace_pid`'s
// compute thread, which is the thread blocked.
absl::Status TimedWait(CommStats& stats, const std::function<absl::Status()>& wait,
                       Trace* trace = nullptr, int trace_pid = 0);

// Collectives that account for themselves: each one a worker takes part in counts as one
// message carrying the buffer (its share of the traffic, whatever algorithm the backend runs
// underneath), and the time blocked in it as waiting. With a trace, each is an "all-reduce" or
// "broadcast" event (category "comm", args bytes) and, being blocking, a wait.
absl::Status CountedAllReduce(Communicator& comm, std::span<float> data, ReduceOp op,
                              CommStats& stats, Trace* trace = nullptr, int trace_pid = 0);
absl::Status CountedBroadcast(Communicator& comm, std::span<float> data, int root,
                              CommStats& stats, Trace* trace = nullptr, int trace_pid = 0);

// With options.sync_init, every worker adopts rank 0's parameters (DESIGN.md: all workers
// start from the same x_0); otherwise nothing happens.
absl::Status StartFromRankZero(Communicator& comm, const WorkerBuffers& buffers,
                               const AlgorithmOptions& options, CommStats& stats);

}  // namespace ald
