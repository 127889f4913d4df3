// A PNG timeline of a few training steps of a trace, drawn by gnuplot (Debian's gnuplot-nox):
// per worker a row for compute (waits in it) and one per kind of transfer, as coloured bars.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/trace.h"
#include "tools/overlap_report.h"

namespace ald {

struct TimelineOptions {
  std::string png_path;
  int64_t first_step = 0;  // the first step drawn
  int steps = 3;           // how many steps, from the start of the first to the end of the last
  int width_px = 1600;
};

// The gnuplot script: bars clipped to the steps' span, times in ms from its start, a dashed line
// where each worker's step begins. Error when the report has none of those steps.
absl::StatusOr<std::string> TimelineScript(const std::vector<TraceEvent>& events,
                                           const OverlapReport& report,
                                           const TimelineOptions& options);

// Runs gnuplot on TimelineScript (gnuplot prints its own complaints on stderr); errors say
// whether gnuplot is missing, failed, or wrote no file.
absl::Status DrawTimeline(const std::vector<TraceEvent>& events, const OverlapReport& report,
                          const TimelineOptions& options);

}  // namespace ald
