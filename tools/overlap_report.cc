#include "tools/overlap_report.h"

#include <fcntl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/file_io.h"
#include "core/json.h"
#include "core/status.h"

namespace ald {
namespace {

const json::Value* Member(const json::Value& object, absl::string_view key) {
  for (const auto& [name, value] : object.object) {
    if (name == key) return &value;
  }
  return nullptr;
}

absl::Status BadEvent(size_t index, const json::Value& event, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("trace event ", index, " (at byte ",
                                                 event.position, "): ", what));
}

// The member `key` of the kind `kind`; a missing member is `fallback` when there is one.
absl::StatusOr<const json::Value*> Field(size_t index, const json::Value& event,
                                         absl::string_view key, json::Value::Kind kind,
                                         const json::Value* fallback = nullptr) {
  const json::Value* value = Member(event, key);
  if (value == nullptr && fallback != nullptr) return fallback;
  if (value == nullptr) return BadEvent(index, event, absl::StrCat("no \"", key, "\""));
  if (value->kind != kind) {
    return BadEvent(index, event, absl::StrCat("\"", key, "\" is ", json::KindName(value->kind),
                                               ", expected ", json::KindName(kind)));
  }
  return value;
}

absl::StatusOr<TraceEvent> ToEvent(size_t index, const json::Value& event) {
  static const json::Value kNoCategory = json::Value::String("");
  static const json::Value kNoArgs = json::Value::Object();
  TraceEvent out;
  ASSIGN_OR_RETURN(const json::Value* name,
                   Field(index, event, "name", json::Value::Kind::kString));
  ASSIGN_OR_RETURN(const json::Value* category,
                   Field(index, event, "cat", json::Value::Kind::kString, &kNoCategory));
  out.name = name->string;
  out.category = category->string;
  int64_t numbers[4];
  const char* keys[] = {"pid", "tid", "ts", "dur"};
  for (int i = 0; i < 4; ++i) {
    ASSIGN_OR_RETURN(const json::Value* value,
                     Field(index, event, keys[i], json::Value::Kind::kInteger));
    numbers[i] = value->integer;
  }
  const auto [pid, tid, ts, dur] = numbers;
  if (dur < 0) return BadEvent(index, event, "negative \"dur\"");
  constexpr int64_t kMaxId = std::numeric_limits<int>::max();
  if (pid < 0 || pid > kMaxId || tid < 0 || tid > kMaxId) {
    return BadEvent(index, event, "\"pid\" and \"tid\" must be small non-negative integers");
  }
  out.pid = static_cast<int>(pid);
  out.tid = static_cast<int>(tid);
  out.ts_us = ts;
  out.dur_us = dur;
  ASSIGN_OR_RETURN(const json::Value* args,
                   Field(index, event, "args", json::Value::Kind::kObject, &kNoArgs));
  for (const auto& [key, value] : args->object) {
    // Other tools put nested values in args; the report needs only strings and integers.
    if (value.kind == json::Value::Kind::kInteger) out.args.emplace_back(key, value.integer);
    if (value.kind == json::Value::Kind::kString) out.args.emplace_back(key, value.string);
  }
  return out;
}

std::string Millis(double micros) { return absl::StrFormat("%9.3f", micros / 1000.0); }

std::string Row(const std::string& label, const OverlapTotals& totals) {
  const double n = static_cast<double>(std::max<int64_t>(totals.samples, 1));
  auto percent = [](double fraction) {
    return std::isnan(fraction) ? std::string("        -")
                                : absl::StrFormat("%8.1f%%", 100 * fraction);
  };
  return absl::StrCat(absl::StrFormat("%-9s", label), Millis(totals.wall_us / n),
                      Millis(totals.compute_us / n), Millis(totals.comm_us / n),
                      Millis(totals.exposed_us / n), percent(totals.hidden_fraction()),
                      Millis(totals.overlap_us / n), percent(totals.overlap_fraction()), "\n");
}

// Each worker's step windows, from the "step" events or else from the compute events' step arg.
absl::StatusOr<std::map<int, std::map<int64_t, Interval>>> StepWindows(
    const std::vector<TraceEvent>& events, std::string& source) {
  std::map<int, std::map<int64_t, Interval>> windows;
  for (const TraceEvent& event : events) {
    if (RoleOf(event) != EventRole::kStep) continue;
    std::map<int64_t, Interval>& mine = windows[event.pid];
    const int64_t step = event.IntArg("step", static_cast<int64_t>(mine.size()));
    mine[step] = {event.ts_us, event.ts_us + event.dur_us};
  }
  if (!windows.empty()) {
    source = "step events";
    return windows;
  }
  std::map<int, int64_t> last_end;
  for (const TraceEvent& event : events) {
    int64_t& end = last_end[event.pid];
    end = std::max(end, event.ts_us + event.dur_us);
    if (RoleOf(event) != EventRole::kCompute) continue;
    const int64_t step = event.IntArg("step", -1);
    if (step < 0) continue;
    auto [found, inserted] = windows[event.pid].try_emplace(step, Interval{event.ts_us, 0});
    if (!inserted) found->second.begin = std::min(found->second.begin, event.ts_us);
  }
  if (windows.empty()) {
    return absl::InvalidArgumentError(
        "the trace has no steps: no \"step\" events and no compute events with a \"step\" arg");
  }
  for (auto& [pid, mine] : windows) {
    for (auto it = mine.begin(); it != mine.end(); ++it) {
      const auto next = std::next(it);
      it->second.end = next != mine.end() ? next->second.begin : last_end[pid];
    }
  }
  source = "the step arg of compute events";
  return windows;
}

}  // namespace

EventRole RoleOf(const TraceEvent& event) {
  const std::string& c = event.category;
  if (c == "forward" || c == "backward" || c == "compute") return EventRole::kCompute;
  if (c == "comm") {
    // AL-DSGD's 8-byte loss-and-degree messages take no link time; their events last from the
    // post until the peer has its loss, which would pass for hidden communication.
    return event.StringArg("kind") == "scalars" ? EventRole::kOther : EventRole::kComm;
  }
  if (c == "wait") return EventRole::kWait;
  if (c == "step") return EventRole::kStep;
  return EventRole::kOther;
}

absl::StatusOr<std::vector<TraceEvent>> ParseTrace(absl::string_view text) {
  absl::StatusOr<json::Value> parsed = json::Parse(text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a trace: ", parsed.status().message()));
  }
  // Chrome's two layouts: {"traceEvents": [...]} and a bare array.
  const json::Value* list = &*parsed;
  if (parsed->kind == json::Value::Kind::kObject) list = Member(*parsed, "traceEvents");
  if (list == nullptr || list->kind != json::Value::Kind::kArray) {
    return absl::InvalidArgumentError(
        "not a trace: expected {\"traceEvents\": [...]} or an array of events");
  }
  std::vector<TraceEvent> events;
  for (size_t i = 0; i < list->array.size(); ++i) {
    const json::Value& event = list->array[i];
    if (event.kind != json::Value::Kind::kObject) return BadEvent(i, event, "not an object");
    ASSIGN_OR_RETURN(const json::Value* phase, Field(i, event, "ph", json::Value::Kind::kString));
    if (phase->string != "X") continue;  // metadata, counters, instants: not intervals
    ASSIGN_OR_RETURN(TraceEvent parsed_event, ToEvent(i, event));
    events.push_back(std::move(parsed_event));
  }
  if (events.empty()) {
    return absl::InvalidArgumentError("the trace has no complete (\"ph\":\"X\") events");
  }
  return events;
}

absl::StatusOr<std::vector<TraceEvent>> ReadTrace(const std::string& path) {
  // The file layer's errors name the path already; the parser's get it in front.
  ASSIGN_OR_RETURN(UniqueFd file, UniqueFd::Open(path, O_RDONLY));
  ASSIGN_OR_RETURN(uint64_t size, file.Size());
  std::string text(size, '\0');
  RETURN_IF_ERROR(file.ReadAt(0, text.data(), size));
  absl::StatusOr<std::vector<TraceEvent>> events = ParseTrace(text);
  if (events.ok()) return events;
  return absl::Status(events.status().code(),
                      absl::StrCat(path, ": ", events.status().message()));
}

std::vector<Interval> UnionOf(std::vector<Interval> intervals) {
  std::sort(intervals.begin(), intervals.end(),
            [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
  std::vector<Interval> merged;
  for (const Interval& interval : intervals) {
    if (interval.end <= interval.begin) continue;
    if (!merged.empty() && interval.begin <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, interval.end);
    } else {
      merged.push_back(interval);
    }
  }
  return merged;
}

std::vector<Interval> Subtract(const std::vector<Interval>& from,
                               const std::vector<Interval>& remove) {
  std::vector<Interval> out;
  size_t r = 0;
  for (Interval piece : from) {
    while (r < remove.size() && remove[r].end <= piece.begin) ++r;
    for (size_t k = r; k < remove.size() && remove[k].begin < piece.end; ++k) {
      if (remove[k].begin > piece.begin) out.push_back({piece.begin, remove[k].begin});
      piece.begin = std::max(piece.begin, remove[k].end);
    }
    if (piece.begin < piece.end) out.push_back(piece);
  }
  return out;
}

int64_t CoveredMicros(const std::vector<Interval>& disjoint, Interval window) {
  auto it = std::lower_bound(disjoint.begin(), disjoint.end(), window.begin,
                             [](const Interval& a, int64_t t) { return a.end <= t; });
  int64_t covered = 0;
  for (; it != disjoint.end() && it->begin < window.end; ++it) {
    covered += std::min(it->end, window.end) - std::max(it->begin, window.begin);
  }
  return covered;
}

void OverlapTotals::Add(const StepTimes& times) {
  ++samples;
  wall_us += times.window.end - times.window.begin;
  compute_us += times.compute_us;
  comm_us += times.comm_us;
  exposed_us += times.exposed_us;
  overlap_us += times.overlap_us;
}

double OverlapTotals::hidden_fraction() const {
  if (comm_us == 0) return std::nan("");
  return 1.0 - static_cast<double>(exposed_us) / static_cast<double>(comm_us);
}

double OverlapTotals::overlap_fraction() const {
  const int64_t shorter = std::min(compute_us, comm_us);
  if (shorter == 0) return std::nan("");
  return static_cast<double>(overlap_us) / static_cast<double>(shorter);
}

std::vector<int64_t> DeliveredEnds(const std::vector<TraceEvent>& events) {
  std::vector<int64_t> ends(events.size());
  // (sender, receiver, kind, bucket) -> the event indices of its sends, and of its receives.
  using Route = std::tuple<int, int, std::string, int64_t>;
  std::map<Route, std::pair<std::vector<size_t>, std::vector<size_t>>> routes;
  for (size_t i = 0; i < events.size(); ++i) {
    const TraceEvent& event = events[i];
    ends[i] = event.ts_us + event.dur_us;
    if (event.category != "comm") continue;
    const int64_t peer = event.IntArg("peer", -1), bucket = event.IntArg("bucket", -1);
    if (peer < 0 || bucket < 0) continue;
    const std::string kind(event.StringArg("kind"));
    if (event.name == "send") {
      routes[{event.pid, static_cast<int>(peer), kind, bucket}].first.push_back(i);
    } else if (event.name == "recv") {
      routes[{static_cast<int>(peer), event.pid, kind, bucket}].second.push_back(i);
    }
  }
  auto by_start = [&events](size_t a, size_t b) { return events[a].ts_us < events[b].ts_us; };
  for (auto& [route, transfers] : routes) {
    auto& [sends, receives] = transfers;
    std::stable_sort(sends.begin(), sends.end(), by_start);
    std::stable_sort(receives.begin(), receives.end(), by_start);
    for (size_t k = 0; k < std::min(sends.size(), receives.size()); ++k) {
      ends[sends[k]] = std::max(ends[sends[k]], ends[receives[k]]);
    }
  }
  return ends;
}

absl::StatusOr<OverlapReport> ComputeOverlap(const std::vector<TraceEvent>& events) {
  OverlapReport report;
  ASSIGN_OR_RETURN(auto windows, StepWindows(events, report.step_source));

  struct Streams {
    std::vector<Interval> compute, comm, wait;
  };
  std::map<int, Streams> streams;
  const std::vector<int64_t> ends = DeliveredEnds(events);
  for (size_t i = 0; i < events.size(); ++i) {
    const TraceEvent& event = events[i];
    const Interval interval{event.ts_us, ends[i]};
    Streams& mine = streams[event.pid];
    switch (RoleOf(event)) {
      case EventRole::kCompute: mine.compute.push_back(interval); break;
      case EventRole::kComm: mine.comm.push_back(interval); break;
      case EventRole::kWait: mine.wait.push_back(interval); break;
      default: break;
    }
  }
  std::map<int64_t, OverlapTotals> steps;
  std::map<int, OverlapTotals> workers;
  for (const auto& [pid, mine] : windows) {
    Streams& raw = streams[pid];
    const std::vector<Interval> wait = UnionOf(raw.wait);
    const std::vector<Interval> compute = Subtract(UnionOf(raw.compute), wait);
    const std::vector<Interval> comm = UnionOf(raw.comm);
    const std::vector<Interval> compute_alone = Subtract(compute, comm);
    for (const auto& [step, window] : mine) {
      const int64_t compute_us = CoveredMicros(compute, window);
      const StepTimes times{pid,
                            step,
                            window,
                            compute_us,
                            CoveredMicros(comm, window),
                            CoveredMicros(wait, window),
                            compute_us - CoveredMicros(compute_alone, window)};
      report.worker_steps.push_back(times);
      steps[step].Add(times);
      workers[pid].Add(times);
      report.total.Add(times);
    }
  }
  std::sort(report.worker_steps.begin(), report.worker_steps.end(),
            [](const StepTimes& a, const StepTimes& b) {
              return std::make_pair(a.step, a.pid) < std::make_pair(b.step, b.pid);
            });
  report.steps.assign(steps.begin(), steps.end());
  report.workers.assign(workers.begin(), workers.end());
  return report;
}

std::string FormatOverlapReport(const OverlapReport& report) {
  const char* kHeader = "     wall  compute     comm  exposed   hidden  overlap overlap%\n";
  std::string out = absl::StrCat(report.workers.size(), " worker(s), ", report.steps.size(),
                                 " step(s) (from ", report.step_source,
                                 "); milliseconds, means over workers\n");
  absl::StrAppend(&out, "step     ", kHeader);
  for (const auto& [step, totals] : report.steps) {
    absl::StrAppend(&out, Row(absl::StrCat(step), totals));
  }
  absl::StrAppend(&out, Row("average", report.total));
  absl::StrAppend(&out, "\nworker   ", kHeader);
  for (const auto& [pid, totals] : report.workers) {
    absl::StrAppend(&out, Row(absl::StrCat(pid), totals));
  }
  absl::StrAppend(&out,
                  "\ncompute: union of forward/backward/update events, less waits; comm: union of"
                  " transfers\n(a transfer ends where its backend saw it finish, else at the next"
                  " test of it, a send no earlier than its receive\non the peer when the trace"
                  " has it); exposed: time in waits; hidden = 1 - exposed / comm;\noverlap:"
                  " compute while a transfer is in flight,\noverlap% = overlap / min(compute,"
                  " comm), the shorter's share that ran under the other\n");
  return out;
}

}  // namespace ald
