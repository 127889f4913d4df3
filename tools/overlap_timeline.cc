#include "tools/overlap_timeline.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace ald {
namespace {

// A gnuplot single-quoted string: the only escape is '' for a quote.
std::string GnuplotString(absl::string_view text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "''"}}), "'");
}

// A worker's rows: its compute thread, then its transfers by kind, each kind in one row however
// many lanes (tids) the trace spread them over (a row per lane made dozens of rows per worker),
// then any other thread.
enum Lane { kComputeLane = 0, kSendLane = 1, kReceiveLane = 2, kCollectiveLane = 3, kOtherLanes };

int LaneOf(const TraceEvent& event) {
  if (RoleOf(event) == EventRole::kComm) {
    if (event.name == "send") return kSendLane;
    if (event.name == "recv") return kReceiveLane;
    return kCollectiveLane;
  }
  return event.tid == kComputeTid ? kComputeLane : kOtherLanes + event.tid;
}

std::string RowLabel(int pid, int lane) {
  switch (lane) {
    case kComputeLane: return absl::StrCat("w", pid, " compute");
    case kSendLane: return absl::StrCat("w", pid, " sends");
    case kReceiveLane: return absl::StrCat("w", pid, " receives");
    case kCollectiveLane: return absl::StrCat("w", pid, " collectives");
    default: return absl::StrCat("w", pid, " thread ", lane - kOtherLanes);
  }
}

struct Series {
  const char* title;
  const char* color;
  double half_height;
  std::string rows;  // "x y xlow xhigh ylow yhigh" lines
};

}  // namespace

absl::StatusOr<std::string> TimelineScript(const std::vector<TraceEvent>& events,
                                           const OverlapReport& report,
                                           const TimelineOptions& options) {
  const int64_t last_step = options.first_step + options.steps - 1;
  Interval span{INT64_MAX, INT64_MIN};
  std::vector<std::pair<int, Interval>> step_starts;  // (pid, window) of the drawn steps
  std::vector<int64_t> step_numbers;
  for (const StepTimes& times : report.worker_steps) {
    if (times.step < options.first_step || times.step > last_step) continue;
    span.begin = std::min(span.begin, times.window.begin);
    span.end = std::max(span.end, times.window.end);
    step_starts.emplace_back(times.pid, times.window);
    step_numbers.push_back(times.step);
  }
  if (step_starts.empty() || span.end <= span.begin) {
    return absl::InvalidArgumentError(absl::StrCat("the trace has no steps ", options.first_step,
                                                   "..", last_step, " to draw"));
  }

  // Rows: every worker's lanes that have something in the span, compute first.
  std::set<std::pair<int, int>> threads;
  for (const TraceEvent& event : events) {
    const EventRole role = RoleOf(event);
    if (role == EventRole::kStep || role == EventRole::kOther) continue;
    if (event.ts_us + event.dur_us < span.begin || event.ts_us > span.end) continue;
    threads.insert({event.pid, LaneOf(event)});
  }
  // A blank row above each worker keeps workers apart and holds its step labels.
  std::map<std::pair<int, int>, int> row_of;
  int rows = 0;
  for (const auto& thread : threads) {
    if (!row_of.empty() && std::prev(row_of.end())->first.first != thread.first) ++rows;
    row_of.emplace(thread, rows++);
  }

  Series compute{"compute (forward, backward, update)", "#4477aa", 0.35, ""};
  Series comm{"communication (post to completion)", "#ee9944", 0.35, ""};
  Series wait{"wait (compute thread blocked)", "#cc3311", 0.35, ""};
  auto ms = [&](int64_t t) { return (std::clamp(t, span.begin, span.end) - span.begin) / 1e3; };
  for (const TraceEvent& event : events) {
    Series* series = nullptr;
    switch (RoleOf(event)) {
      case EventRole::kCompute: series = &compute; break;
      case EventRole::kComm: series = &comm; break;
      case EventRole::kWait: series = &wait; break;
      default: continue;
    }
    const double begin = ms(event.ts_us), end = ms(event.ts_us + event.dur_us);
    if (end <= begin) continue;
    const auto row_found = row_of.find({event.pid, LaneOf(event)});
    if (row_found == row_of.end()) continue;
    const int row = row_found->second;
    absl::StrAppend(&series->rows,
                    absl::StrFormat("%.3f %d %.3f %.3f %.2f %.2f\n", (begin + end) / 2, row,
                                    begin, end, row - series->half_height,
                                    row + series->half_height));
  }

  std::string script = absl::StrFormat(
      "set terminal pngcairo size %d,%d font 'sans,10'\nset output %s\n", options.width_px,
      140 + 24 * rows, GnuplotString(options.png_path));
  absl::StrAppend(&script, "set title ",
                  GnuplotString(absl::StrCat("steps ", *std::min_element(step_numbers.begin(),
                                                                         step_numbers.end()),
                                             "..",
                                             *std::max_element(step_numbers.begin(),
                                                               step_numbers.end()))),
                  "\nset xlabel 'time (ms)'\nset xrange [0:", ms(span.end), "]\n");
  absl::StrAppend(&script, "set yrange [", rows - 0.5, ":-1.5]\nset ytics (");
  for (const auto& [thread, row] : row_of) {
    absl::StrAppend(&script, row == 0 ? "" : ", ",
                    GnuplotString(RowLabel(thread.first, thread.second)), " ", row);
  }
  absl::StrAppend(&script,
                  ")\nset style fill solid 1.0 noborder\nset key outside top center horizontal\n"
                  "set grid xtics lc rgb 'gray85'\n");
  for (size_t i = 0; i < step_starts.size(); ++i) {
    const auto& [pid, window] = step_starts[i];
    // The worker's rows are contiguous: the step line spans exactly them.
    const auto first = row_of.lower_bound({pid, INT32_MIN});
    const auto after = row_of.lower_bound({pid + 1, INT32_MIN});
    if (first == after) continue;
    const int top = first->second, bottom = std::prev(after)->second;
    const double x = ms(window.begin);
    absl::StrAppend(&script, absl::StrFormat("set arrow from %.3f,%.1f to %.3f,%.1f nohead "
                                             "lc rgb 'gray30' dt 2\n",
                                             x, top - 1.5, x, bottom + 0.5));
    absl::StrAppend(&script, absl::StrFormat("set label 'w%d step %d' at %.3f,%.1f left offset "
                                             "0.4,0 font ',8' tc rgb 'gray30'\n",
                                             pid, step_numbers[i], x, top - 1.0));
  }
  std::string plot = "plot";
  int blocks = 0;
  for (const Series* series : {&compute, &comm, &wait}) {
    const std::string block = absl::StrCat("$s", blocks);
    // An empty data block would make gnuplot fail; keep a bar outside the view instead.
    absl::StrAppend(&script, block, " << EOD\n",
                    series->rows.empty() ? "-1 -9 -1 -1 -9 -9\n" : series->rows, "EOD\n");
    absl::StrAppend(&plot, blocks == 0 ? " " : ", ", block,
                    " using 1:2:3:4:5:6 with boxxyerror lc rgb '", series->color, "' title ",
                    GnuplotString(series->title));
    ++blocks;
  }
  absl::StrAppend(&script, plot, "\n");
  return script;
}

absl::Status DrawTimeline(const std::vector<TraceEvent>& events, const OverlapReport& report,
                          const TimelineOptions& options) {
  absl::StatusOr<std::string> script = TimelineScript(events, report, options);
  if (!script.ok()) return script.status();
  ::unlink(options.png_path.c_str());  // so that a stale file does not pass for a new one
  FILE* gnuplot = ::popen("gnuplot", "w");
  if (gnuplot == nullptr) return absl::InternalError("cannot start gnuplot");
  const size_t written = std::fwrite(script->data(), 1, script->size(), gnuplot);
  const int status = ::pclose(gnuplot);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return absl::FailedPreconditionError(
        "gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
  }
  if (written != script->size() || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("gnuplot failed drawing ", options.png_path,
                                            " (its messages are above)"));
  }
  struct stat info;
  if (::stat(options.png_path.c_str(), &info) != 0 || info.st_size == 0) {
    return absl::InternalError(absl::StrCat("gnuplot wrote no image at ", options.png_path));
  }
  return absl::OkStatus();
}

}  // namespace ald
