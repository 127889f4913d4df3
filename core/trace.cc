#include "core/trace.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/atomic_file.h"
#include "core/json.h"

namespace ald {
namespace {

void AppendArgs(std::string& out, const TraceEvent& event) {
  out += "\"args\":{";
  for (size_t i = 0; i < event.args.size(); ++i) {
    const auto& [key, value] = event.args[i];
    absl::StrAppend(&out, i == 0 ? "" : ",", json::Quote(key), ":");
    if (const int64_t* integer = std::get_if<int64_t>(&value)) {
      absl::StrAppend(&out, *integer);
    } else {
      out += json::Quote(std::get<std::string>(value));
    }
  }
  out += "}";
}

std::string Metadata(absl::string_view kind, int pid, int tid, absl::string_view arg_key,
                     const std::string& arg_value) {
  return absl::StrCat("{\"ph\":\"M\",\"name\":", json::Quote(kind), ",\"pid\":", pid,
                      ",\"tid\":", tid, ",\"args\":{", json::Quote(arg_key), ":", arg_value,
                      "}}");
}

std::string DefaultThreadName(int tid) {
  if (tid == kComputeTid) return "compute";
  if (tid == kCommTid) return "comm";
  if (tid > kCommTid) return absl::StrCat("comm ", tid - kCommTid + 1);
  return absl::StrCat("thread ", tid);
}

}  // namespace

void TraceEvent::AddArgs(TraceArgs more) {
  for (const TraceArg& arg : more) {
    if (const int64_t* integer = std::get_if<int64_t>(&arg.value)) {
      args.emplace_back(std::string(arg.key), *integer);
    } else {
      args.emplace_back(std::string(arg.key), std::string(std::get<absl::string_view>(arg.value)));
    }
  }
}

int64_t TraceEvent::IntArg(absl::string_view key, int64_t fallback) const {
  for (const auto& [name, value] : args) {
    if (name == key) {
      const int64_t* integer = std::get_if<int64_t>(&value);
      return integer != nullptr ? *integer : fallback;
    }
  }
  return fallback;
}

absl::string_view TraceEvent::StringArg(absl::string_view key) const {
  for (const auto& [name, value] : args) {
    if (name == key) {
      const std::string* text = std::get_if<std::string>(&value);
      return text != nullptr ? absl::string_view(*text) : absl::string_view();
    }
  }
  return {};
}

Trace::Trace() : start_(std::chrono::steady_clock::now()) {}

int64_t Trace::NowMicros() const {
  return origin_us_ + std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start_)
                          .count();
}

void Trace::UseUnixEpoch() {
  const auto since_start = std::chrono::steady_clock::now() - start_;
  const auto wall = std::chrono::system_clock::now().time_since_epoch() - since_start;
  origin_us_ = std::chrono::duration_cast<std::chrono::microseconds>(wall).count();
}

void Trace::Add(TraceEvent event) {
  std::lock_guard<std::mutex> lock(mutex_);
  events_.push_back(std::move(event));
}

void Trace::Add(int pid, int tid, absl::string_view name, absl::string_view category,
                int64_t ts_us, int64_t dur_us, TraceArgs args) {
  TraceEvent event{std::string(name), std::string(category), pid, tid, ts_us, dur_us, {}};
  event.AddArgs(args);
  Add(std::move(event));
}

void Trace::NameWorker(int pid, std::string name) {
  std::lock_guard<std::mutex> lock(mutex_);
  worker_names_[pid] = std::move(name);
}

void Trace::NameThread(int pid, int tid, std::string name) {
  std::lock_guard<std::mutex> lock(mutex_);
  thread_names_[{pid, tid}] = std::move(name);
}

int Trace::AcquireLane(int pid) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<bool>& busy = lanes_busy_[pid];
  const size_t lane = std::find(busy.begin(), busy.end(), false) - busy.begin();
  if (lane == busy.size()) busy.push_back(false);
  busy[lane] = true;
  return kCommTid + static_cast<int>(lane);
}

void Trace::ReleaseLane(int pid, int tid) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<bool>& busy = lanes_busy_[pid];
  const size_t lane = static_cast<size_t>(tid - kCommTid);
  if (lane < busy.size()) busy[lane] = false;
}

std::vector<TraceEvent> Trace::Events() const {
  std::vector<TraceEvent> events;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    events = events_;
  }
  std::stable_sort(events.begin(), events.end(), [](const TraceEvent& a, const TraceEvent& b) {
    if (a.ts_us != b.ts_us) return a.ts_us < b.ts_us;
    return a.dur_us > b.dur_us;
  });
  return events;
}

std::string Trace::ToJson() const {
  const std::vector<TraceEvent> events = Events();
  std::map<int, std::string> worker_names;
  std::map<std::pair<int, int>, std::string> thread_names;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    worker_names = worker_names_;
    thread_names = thread_names_;
  }
  std::set<std::pair<int, int>> threads;
  for (const TraceEvent& event : events) threads.insert({event.pid, event.tid});
  for (const auto& [thread, name] : thread_names) threads.insert(thread);

  std::vector<std::string> lines;
  int last_pid = -1;
  for (const auto& [pid, tid] : threads) {
    if (pid != last_pid) {
      auto named = worker_names.find(pid);
      const std::string name =
          named != worker_names.end() ? named->second : absl::StrCat("worker ", pid);
      lines.push_back(Metadata("process_name", pid, 0, "name", json::Quote(name)));
      lines.push_back(Metadata("process_sort_index", pid, 0, "sort_index", absl::StrCat(pid)));
      last_pid = pid;
    }
    auto named = thread_names.find({pid, tid});
    const std::string name = named != thread_names.end() ? named->second : DefaultThreadName(tid);
    lines.push_back(Metadata("thread_name", pid, tid, "name", json::Quote(name)));
    lines.push_back(Metadata("thread_sort_index", pid, tid, "sort_index", absl::StrCat(tid)));
  }
  for (const TraceEvent& event : events) {
    std::string line = absl::StrCat(
        "{\"ph\":\"X\",\"name\":", json::Quote(event.name), ",\"cat\":",
        json::Quote(event.category), ",\"pid\":", event.pid, ",\"tid\":", event.tid,
        ",\"ts\":", event.ts_us, ",\"dur\":", event.dur_us, ",");
    AppendArgs(line, event);
    line += "}";
    lines.push_back(std::move(line));
  }

  std::string out = "{\"traceEvents\": [\n";
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::StrAppend(&out, lines[i], i + 1 < lines.size() ? ",\n" : "\n");
  }
  out += "],\n\"displayTimeUnit\": \"ms\"}\n";
  return out;
}

absl::Status Trace::WriteJson(const std::string& path) const {
  absl::Status status = WriteStringAtomically(path, ToJson());
  if (status.ok()) return status;
  // The file layer names the file it failed on (possibly the temporary); say which trace too.
  return absl::Status(status.code(),
                      absl::StrCat("cannot write the trace ", path, ": ", status.message()));
}

ScopedTraceEvent::ScopedTraceEvent(Trace* trace, int pid, int tid, absl::string_view name,
                                   absl::string_view category, TraceArgs args)
    : trace_(trace) {
  if (trace_ == nullptr) return;
  event_.name = std::string(name);
  event_.category = std::string(category);
  event_.pid = pid;
  event_.tid = tid;
  event_.AddArgs(args);
  event_.ts_us = trace_->NowMicros();
}

void ScopedTraceEvent::End() {
  if (trace_ == nullptr) return;
  event_.dur_us = trace_->NowMicros() - event_.ts_us;
  trace_->Add(std::move(event_));
  trace_ = nullptr;
}

LaneTraceEvent::LaneTraceEvent(Trace* trace, int pid, absl::string_view name,
                               absl::string_view category, TraceArgs args)
    : trace_(trace) {
  if (trace_ == nullptr) return;
  event_.name = std::string(name);
  event_.category = std::string(category);
  event_.pid = pid;
  event_.tid = trace_->AcquireLane(pid);
  event_.AddArgs(args);
  event_.ts_us = trace_->NowMicros();
}

LaneTraceEvent& LaneTraceEvent::operator=(LaneTraceEvent&& other) noexcept {
  if (this != &other) {
    Release();
    trace_ = std::exchange(other.trace_, nullptr);
    event_ = std::move(other.event_);
  }
  return *this;
}

void LaneTraceEvent::End() { EndAgo(absl::ZeroDuration()); }

void LaneTraceEvent::EndAgo(absl::Duration ago) {
  if (trace_ == nullptr) return;
  const int64_t end_us = trace_->NowMicros() - absl::ToInt64Microseconds(ago);
  event_.dur_us = std::max<int64_t>(end_us - event_.ts_us, 0);
  trace_->ReleaseLane(event_.pid, event_.tid);
  trace_->Add(std::move(event_));
  trace_ = nullptr;
}

void LaneTraceEvent::Release() {
  if (trace_ == nullptr) return;
  trace_->ReleaseLane(event_.pid, event_.tid);
  trace_ = nullptr;
}

}  // namespace ald
