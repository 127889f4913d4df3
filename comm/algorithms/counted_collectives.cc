#include "comm/algorithms/counted_collectives.h"

#include <functional>

#include "absl/time/clock.h"
#include "comm/wire_collectives.h"
#include "core/status.h"

namespace ald {

absl::Status TimedWait(CommStats& stats, const std::function<absl::Status()>& wait,
                       Trace* trace, int trace_pid) {
  ScopedTraceEvent event(trace, trace_pid, kComputeTid, "wait", "wait");
  const absl::Time start = absl::Now();
  absl::Status status = wait();
  stats.wait_seconds += absl::ToDoubleSeconds(absl::Now() - start);
  return status;
}

namespace {

void CountMessage(CommStats& stats, size_t bytes) {
  stats.bytes_sent += static_cast<int64_t>(bytes);
  stats.messages_sent += 1;
}

absl::Status CountedCollective(const char* name, size_t bytes, CommStats& stats, Trace* trace,
                               int trace_pid, const std::function<absl::Status()>& collective) {
  CountMessage(stats, bytes);
  LaneTraceEvent event(trace, trace_pid, name, "comm", {{"bytes", bytes}});
  absl::Status status = TimedWait(stats, collective, trace, trace_pid);
  event.End();
  return status;
}

}  // namespace

absl::Status CountedAllReduce(Communicator& comm, std::span<float> data, ReduceOp op,
                              CommStats& stats, Trace* trace, int trace_pid, WireFormat wire,
                              WireRounding rounding) {
  return CountedCollective("all-reduce", data.size() * WireBytesPerFloat(wire), stats, trace,
                           trace_pid,
                           [&] { return AllReduceOnWire(comm, data, op, wire, rounding); });
}

PendingCollective PostCountedAllReduce(CollectiveLane& lane, Communicator& comm,
                                       std::span<float> data, ReduceOp op, CommStats& stats,
                                       Trace* trace, int trace_pid) {
  CountMessage(stats, data.size_bytes());
  return lane.Post([&comm, data, op, trace, trace_pid] {
    LaneTraceEvent event(trace, trace_pid, "all-reduce", "comm", {{"bytes", data.size_bytes()}});
    absl::Status status = comm.AllReduce(data, op);
    event.End();
    return status;
  });
}

absl::Status CountedBroadcast(Communicator& comm, std::span<float> data, int root,
                              CommStats& stats, Trace* trace, int trace_pid, WireFormat wire,
                              WireRounding rounding) {
  return CountedCollective("broadcast", data.size() * WireBytesPerFloat(wire), stats, trace,
                           trace_pid,
                           [&] { return BroadcastOnWire(comm, data, root, wire, rounding); });
}

absl::Status StartFromRankZero(Communicator& comm, const WorkerBuffers& buffers,
                               const AlgorithmOptions& options, CommStats& stats) {
  if (!options.sync_init) return absl::OkStatus();
  return CountedBroadcast(comm, buffers.params, /*root=*/0, stats);
}

}  // namespace ald
