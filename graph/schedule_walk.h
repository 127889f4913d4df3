// Visiting a training graph's schedule in order, for every backend's lowering: forward nodes,
// backward steps and gradient sums, each handed to its own callback.
#pragma once

#include <functional>

#include "absl/status/status.h"
#include "core/status.h"
#include "graph/autodiff.h"

namespace ald {

// Stops at, and returns, the first error.
inline absl::Status ForEachScheduled(
    const TrainingGraph& graph, const std::function<absl::Status(int node)>& forward,
    const std::function<absl::Status(const BackwardStep&)>& backward,
    const std::function<absl::Status(const GradientSum&)>& sum) {
  for (const ScheduleEntry& entry : graph.schedule) {
    switch (entry.kind) {
      case ScheduleEntry::Kind::kForward: RETURN_IF_ERROR(forward(entry.index)); break;
      case ScheduleEntry::Kind::kBackward:
        RETURN_IF_ERROR(backward(graph.backward[entry.index]));
        break;
      case ScheduleEntry::Kind::kSum: RETURN_IF_ERROR(sum(graph.sums[entry.index])); break;
    }
  }
  return absl::OkStatus();
}

}  // namespace ald
