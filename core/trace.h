// A Chrome-trace recorder (DESIGN.md, "Profiling"): complete events with integer microsecond
// times, one pid per worker and one tid per stream, written as JSON that Perfetto opens.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ald {

// The streams of one worker. Communication gets several tids ("lanes") because Perfetto hides
// slices that partly overlap on one thread, and transfers in flight together do overlap.
inline constexpr int kComputeTid = 0;
inline constexpr int kCommTid = 1;  // the first communication lane

// One argument as a caller writes it: {"bucket", 3}, {"op", name}. Non-owning, so building the
// list for a switched-off trace costs a few stores; the trace copies it only when it records.
struct TraceArg {
  template <typename Integer, typename = std::enable_if_t<std::is_integral_v<Integer>>>
  TraceArg(absl::string_view key, Integer value)
      : key(key), value(static_cast<int64_t>(value)) {}
  TraceArg(absl::string_view key, absl::string_view value) : key(key), value(value) {}
  TraceArg(absl::string_view key, const char* value) : key(key), value(absl::string_view(value)) {}
  TraceArg(absl::string_view key, const std::string& value)
      : key(key), value(absl::string_view(value)) {}

  absl::string_view key;
  std::variant<int64_t, absl::string_view> value;
};
using TraceArgs = std::initializer_list<TraceArg>;

// A recorded complete event ("ph":"X"); args keep the caller's order.
struct TraceEvent {
  std::string name, category;
  int pid = 0, tid = 0;
  int64_t ts_us = 0, dur_us = 0;
  std::vector<std::pair<std::string, std::variant<int64_t, std::string>>> args;

  void AddArgs(TraceArgs more);
  // The integer arg `key`, or `fallback` when there is none (or it is a string).
  int64_t IntArg(absl::string_view key, int64_t fallback) const;
  // The string arg `key` (a view into this event), or "" when there is none (or it is an
  // integer).
  absl::string_view StringArg(absl::string_view key) const;
};

// Thread-safe: in-process workers are threads sharing one Trace. Every append takes one mutex,
// which costs far less than the kernels and transfers it times.
class Trace {
 public:
  Trace();
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  // Microseconds since the trace was created (steady clock), the time base of every event.
  int64_t NowMicros() const;
  // From now on NowMicros counts from the Unix epoch instead (still steady: the wall clock is
  // read once, here), so that the traces of several processes, one per MPI rank, line up when
  // merged. Call before any event is timed.
  void UseUnixEpoch();
  void Add(TraceEvent event);
  // Convenience for an event already timed by the caller.
  void Add(int pid, int tid, absl::string_view name, absl::string_view category, int64_t ts_us,
           int64_t dur_us, TraceArgs args = {});

  // Perfetto's labels: by default a worker is "worker <pid>", tid 0 "compute", the lanes
  // "comm", "comm 2", ...; these override them.
  void NameWorker(int pid, std::string name);
  void NameThread(int pid, int tid, std::string name);

  // A communication lane of worker `pid` free until released: the lowest free tid >= kCommTid.
  int AcquireLane(int pid);
  void ReleaseLane(int pid, int tid);

  // The events so far, sorted by start (ties: the longer first, so equal starts nest).
  std::vector<TraceEvent> Events() const;
  // {"traceEvents": [metadata..., events...], "displayTimeUnit": "ms"}, one event per line.
  std::string ToJson() const;
  // ToJson() written atomically (temporary beside `path`, fsync, rename); errors name the path.
  absl::Status WriteJson(const std::string& path) const;

 private:
  const std::chrono::steady_clock::time_point start_;
  int64_t origin_us_ = 0;  // added to every NowMicros (UseUnixEpoch)
  mutable std::mutex mutex_;
  std::vector<TraceEvent> events_;
  std::map<int, std::string> worker_names_;
  std::map<std::pair<int, int>, std::string> thread_names_;
  std::map<int, std::vector<bool>> lanes_busy_;  // per pid, index = tid - kCommTid
};

// Times the enclosing scope (or until End()) as one event; does nothing for a null trace, so
// callers keep `Trace*` null when tracing is off and pay a branch. `name` and `category` must
// outlive the event.
class ScopedTraceEvent {
 public:
  ScopedTraceEvent(Trace* trace, int pid, int tid, absl::string_view name,
                   absl::string_view category, TraceArgs args = {});
  ~ScopedTraceEvent() { End(); }
  ScopedTraceEvent(const ScopedTraceEvent&) = delete;
  ScopedTraceEvent& operator=(const ScopedTraceEvent&) = delete;

  // Records the event now (once; later calls and the destructor do nothing).
  void End();

 private:
  Trace* trace_;
  TraceEvent event_;
};

// An event on a communication lane whose end is known only later: a non-blocking send or
// receive ends where its backend saw it finish (EndAgo), or else when the worker next tests or
// waits on its request ("observed completion"). Movable, so it can live beside its request;
// destroying it without End() (a cancelled transfer) frees the lane and records nothing.
class LaneTraceEvent {
 public:
  LaneTraceEvent() = default;  // inactive
  LaneTraceEvent(Trace* trace, int pid, absl::string_view name, absl::string_view category,
                 TraceArgs args = {});
  LaneTraceEvent(LaneTraceEvent&& other) noexcept { *this = std::move(other); }
  LaneTraceEvent& operator=(LaneTraceEvent&& other) noexcept;
  ~LaneTraceEvent() { Release(); }

  bool active() const { return trace_ != nullptr; }
  void End();
  // Ends the event `ago` before now: where the backend knows when the transfer finished, the
  // event ends there, not where a test happened to notice it. Never before the event began.
  void EndAgo(absl::Duration ago);

 private:
  void Release();

  Trace* trace_ = nullptr;
  TraceEvent event_;
};

}  // namespace ald
