// Collectives that keep CommStats and the trace, and the start from rank 0's model: what the
// centralized algorithms (all-reduce SGD, EASGD, LSGD, AD-PSGD) share.
#pragma once

#include <functional>
#include <span>

#include "absl/status/status.h"
#include "comm/algorithms/algorithm.h"
#include "comm/collective_lane.h"
#include "comm/communicator.h"
#include "comm/wire_format.h"
#include "core/trace.h"

namespace ald {

// Runs `wait` (something that blocks on peers) and adds the time it took to
// stats.wait_seconds; with a trace, the time is also a "wait" event on worker `trace_pid`'s
// compute thread, which is the thread blocked.
absl::Status TimedWait(CommStats& stats, const std::function<absl::Status()>& wait,
                       Trace* trace = nullptr, int trace_pid = 0);

// Collectives that account for themselves: each one a worker takes part in counts as one
// message carrying the buffer in `wire` format (its share of the traffic, whatever algorithm
// the backend runs underneath), and the time blocked in it as waiting. With a trace, each is an
// "all-reduce" or "broadcast" event (category "comm", args bytes) and, being blocking, a wait.
// A bf16 wire rounds as comm/wire_collectives.h says (with `rounding`); only models take it.
absl::Status CountedAllReduce(Communicator& comm, std::span<float> data, ReduceOp op,
                              CommStats& stats, Trace* trace = nullptr, int trace_pid = 0,
                              WireFormat wire = WireFormat::kFp32, WireRounding rounding = {});
// CountedAllReduce in fp32 without waiting: counts the message now and runs the all-reduce on
// `lane` (traced there as the comm event). The caller's wait for it is its own to count
// (TimedWait), since only the thread that waits is blocked; `stats` is touched by the caller's
// thread only.
PendingCollective PostCountedAllReduce(CollectiveLane& lane, Communicator& comm,
                                       std::span<float> data, ReduceOp op, CommStats& stats,
                                       Trace* trace = nullptr, int trace_pid = 0);
absl::Status CountedBroadcast(Communicator& comm, std::span<float> data, int root,
                              CommStats& stats, Trace* trace = nullptr, int trace_pid = 0,
                              WireFormat wire = WireFormat::kFp32, WireRounding rounding = {});

// With options.sync_init, every worker adopts rank 0's parameters (DESIGN.md: all workers
// start from the same x_0); otherwise nothing happens.
absl::Status StartFromRankZero(Communicator& comm, const WorkerBuffers& buffers,
                               const AlgorithmOptions& options, CommStats& stats);

}  // namespace ald
