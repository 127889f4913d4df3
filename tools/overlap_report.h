// The overlap report of a Chrome trace (DESIGN.md, "Profiling"): per training step and worker,
// compute time, communication time, the communication the step waited for, and the hidden part.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/trace.h"

namespace ald {

// What an event stands for, by category: "forward", "backward" and "compute" are compute;
// "comm" a transfer or collective (except the small "scalars" messages of AL-DSGD, which are
// not model traffic); "wait" the compute thread blocked on peers; "step" one whole
// training step (recorded by the trainer, args {"step": k}).
enum class EventRole { kCompute, kComm, kWait, kStep, kOther };
EventRole RoleOf(const TraceEvent& event);

// The complete ("ph":"X") events of a trace as Trace::WriteJson writes it (integer ts and dur;
// metadata skipped). Errors say what is wrong and where; a trace without events is an error.
absl::StatusOr<std::vector<TraceEvent>> ParseTrace(absl::string_view text);
// ParseTrace of a file; errors name the path.
absl::StatusOr<std::vector<TraceEvent>> ReadTrace(const std::string& path);

// Half-open [begin, end) in microseconds.
struct Interval {
  int64_t begin = 0, end = 0;
};
// Sorted, disjoint, non-empty intervals covering the same time as `intervals`.
std::vector<Interval> UnionOf(std::vector<Interval> intervals);
// The time in `from` not in `remove` (both as UnionOf returns them).
std::vector<Interval> Subtract(const std::vector<Interval>& from,
                               const std::vector<Interval>& remove);
int64_t CoveredMicros(const std::vector<Interval>& disjoint, Interval window);

// One worker's step. Compute excludes the waits (an update that waits for a neighbour's model
// is not computing meanwhile); exposed is the time in waits; hidden = 1 - exposed / comm;
// overlap is the time compute and communication run at once, what pipelining hides of
// whichever of the two is shorter.
struct StepTimes {
  int pid = 0;
  int64_t step = 0;
  Interval window;
  int64_t compute_us = 0, comm_us = 0, exposed_us = 0, overlap_us = 0;
};

// Sums over workers and steps; the means divide by `samples` (worker-steps).
struct OverlapTotals {
  int64_t samples = 0;
  int64_t wall_us = 0, compute_us = 0, comm_us = 0, exposed_us = 0, overlap_us = 0;
  void Add(const StepTimes& times);
  // 1 - exposed / comm; NaN without communication.
  double hidden_fraction() const;
  // overlap / min(compute, comm): how much of the shorter of the two ran under the other; NaN
  // when either is zero.
  double overlap_fraction() const;
};

struct OverlapReport {
  std::vector<StepTimes> worker_steps;  // by step, then worker
  std::vector<std::pair<int64_t, OverlapTotals>> steps;  // per step, over its workers
  std::vector<std::pair<int, OverlapTotals>> workers;    // per worker, over its steps
  OverlapTotals total;
  // How the steps were found: "step events" or "the step arg of compute events".
  std::string step_source;
};

// When each event ends for the report: its own end, except that a send ends no earlier than the
// receive of its message on the peer, when the trace holds it (ranks merged on one clock, or
// in-process workers). A backend may call a send finished once its buffer is free (MPI: handed
// to the kernel), while the data is still on its way. The k-th send from A to B of one (kind,
// bucket) is the k-th receive at B from A of the same, as messages between a pair match in
// order.
std::vector<int64_t> DeliveredEnds(const std::vector<TraceEvent>& events);

// Steps are the windows of the "step" events when the trace has any; otherwise a worker's step
// k runs from its first compute event with args {"step": k} to the first of its next step (the
// last to the worker's last event). Error when neither gives a step.
absl::StatusOr<OverlapReport> ComputeOverlap(const std::vector<TraceEvent>& events);

// A table in milliseconds: one line per step (means over workers), the average, and one line
// per worker (means over steps).
std::string FormatOverlapReport(const OverlapReport& report);

}  // namespace ald
