// The trace recorder: appends from many threads, JSON that the strict parser reads back with
// every string intact, the atomic write, communication lanes, and the switched-off trace.
#include "core/trace.h"

#include <dirent.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/atomic_file.h"
#include "core/json.h"
#include "gmock/gmock.h"
#include "core/testing/temp_files.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

std::string TestDir(const std::string& name) { return testing::TestDir("trace_", name); }
using testing::FileContents;
using testing::FileExists;

std::vector<std::string> DirectoryEntries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return names;
  while (dirent* entry = ::readdir(handle)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(handle);
  return names;
}

const json::Value* Member(const json::Value& object, const std::string& key) {
  for (const auto& [name, value] : object.object) {
    if (name == key) return &value;
  }
  return nullptr;
}

TEST(TraceTest, KeepsEveryEventFromManyThreads) {
  Trace trace;
  constexpr int kThreads = 8, kEvents = 300;
  std::vector<std::thread> threads;
  for (int pid = 0; pid < kThreads; ++pid) {
    threads.emplace_back([&trace, pid] {
      for (int i = 0; i < kEvents; ++i) {
        ScopedTraceEvent event(&trace, pid, kComputeTid, "op", "forward", {{"step", i}});
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  const std::vector<TraceEvent> events = trace.Events();
  ASSERT_EQ(events.size(), size_t{kThreads * kEvents});
  std::set<std::pair<int, int64_t>> seen;
  for (const TraceEvent& event : events) seen.insert({event.pid, event.IntArg("step", -1)});
  EXPECT_EQ(seen.size(), size_t{kThreads * kEvents});
  for (size_t i = 1; i < events.size(); ++i) EXPECT_LE(events[i - 1].ts_us, events[i].ts_us);
}

TEST(TraceTest, TimesTheScopeInMicroseconds) {
  Trace trace;
  {
    ScopedTraceEvent event(&trace, 0, kComputeTid, "sleep", "compute");
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  const std::vector<TraceEvent> events = trace.Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_GE(events[0].dur_us, 3000);
  EXPECT_LT(events[0].dur_us, 3'000'000);
}

// Two traces (as two MPI ranks would make, at different moments) on the Unix epoch agree on
// the time of the same instant, which two traces timed from their own starts do not.
TEST(TraceTest, UnixEpochLinesUpTracesStartedApart) {
  Trace first;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Trace second;
  first.UseUnixEpoch();
  second.UseUnixEpoch();
  const int64_t a = first.NowMicros(), b = second.NowMicros();
  EXPECT_LT(std::abs(a - b), 5000) << "the same instant on both clocks";
  const int64_t unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  EXPECT_LT(std::abs(unix_us - a), 1'000'000) << "microseconds since the epoch";
  EXPECT_LE(a, first.NowMicros()) << "still monotonic";

  Trace own_start;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(own_start.NowMicros(), 20000);
  EXPECT_LT(own_start.NowMicros(), 10'000'000) << "without UseUnixEpoch: from the trace's start";
}

TEST(TraceTest, EndRecordsOnce) {
  Trace trace;
  {
    ScopedTraceEvent event(&trace, 0, kComputeTid, "early", "compute");
    event.End();
    event.End();
  }
  EXPECT_EQ(trace.Events().size(), 1u);
}

TEST(TraceTest, NullTraceIsANoOp) {
  ScopedTraceEvent scoped(nullptr, 0, kComputeTid, "nothing", "compute", {{"bucket", 1}});
  scoped.End();
  LaneTraceEvent lane(nullptr, 0, "send", "comm", {{"peer", 2}});
  EXPECT_FALSE(lane.active());
  lane.End();
}

TEST(TraceTest, EqualStartsPutTheLongerEventFirst) {
  Trace trace;
  trace.Add(0, kComputeTid, "inner", "compute", 10, 5);
  trace.Add(0, kComputeTid, "outer", "step", 10, 50);
  trace.Add(0, kComputeTid, "first", "compute", 2, 1);
  const std::vector<TraceEvent> events = trace.Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].name, "first");
  EXPECT_EQ(events[1].name, "outer");
  EXPECT_EQ(events[2].name, "inner");
}

TEST(TraceTest, OverlappingTransfersGetTheirOwnLanes) {
  Trace trace;
  LaneTraceEvent first(&trace, 3, "send", "comm", {{"bucket", 0}});
  LaneTraceEvent second(&trace, 3, "recv", "comm", {{"bucket", 0}});
  LaneTraceEvent other_worker(&trace, 4, "send", "comm");
  first.End();
  LaneTraceEvent third(&trace, 3, "send", "comm", {{"bucket", 1}});  // reuses the first lane
  LaneTraceEvent moved = std::move(second);
  EXPECT_FALSE(second.active());  // NOLINT(bugprone-use-after-move): the move empties it
  moved.End();
  third.End();
  other_worker = LaneTraceEvent();  // cancelled: frees its lane, records nothing

  std::map<std::string, int> tid_of;
  for (const TraceEvent& event : trace.Events()) {
    tid_of[absl::StrCat(event.name, event.pid, "/", event.IntArg("bucket", -1))] = event.tid;
  }
  ASSERT_EQ(tid_of.size(), 3u);
  EXPECT_EQ(tid_of["send3/0"], kCommTid);
  EXPECT_EQ(tid_of["recv3/0"], kCommTid + 1);
  EXPECT_EQ(tid_of["send3/1"], kCommTid);
  EXPECT_EQ(trace.AcquireLane(4), kCommTid);
}

// A transfer whose completion the backend timed ends there, not where a test noticed it; an
// end before the start (an early receive that finished before its event began) is clamped.
TEST(TraceTest, LaneEventEndsWhereTheTransferFinished) {
  Trace trace;
  LaneTraceEvent finished_earlier(&trace, 0, "recv", "comm", {{"bucket", 0}});
  LaneTraceEvent before_its_start(&trace, 0, "recv", "comm", {{"bucket", 1}});
  absl::SleepFor(absl::Milliseconds(30));
  const int64_t now_us = trace.NowMicros();
  finished_earlier.EndAgo(absl::Milliseconds(20));
  before_its_start.EndAgo(absl::Seconds(10));
  const std::vector<TraceEvent> events = trace.Events();
  ASSERT_EQ(events.size(), 2u);
  for (const TraceEvent& event : events) {
    if (event.IntArg("bucket", -1) == 0) {
      const int64_t end_us = event.ts_us + event.dur_us;
      EXPECT_LE(end_us, now_us - 20000 + 1000);  // 1 ms for the calls between
      EXPECT_GE(end_us, now_us - 20000 - 1000);
    } else {
      EXPECT_EQ(event.dur_us, 0);
    }
  }
}

TEST(TraceTest, ArgsReadBackByTypeAndFallBackOtherwise) {
  TraceEvent event;
  event.AddArgs({{"bucket", 3}, {"kind", "model"}});
  EXPECT_EQ(event.IntArg("bucket", -1), 3);
  EXPECT_EQ(event.IntArg("kind", -1), -1);  // a string, not an integer
  EXPECT_EQ(event.StringArg("kind"), "model");
  EXPECT_EQ(event.StringArg("bucket"), "");  // an integer, not a string
  EXPECT_EQ(event.StringArg("peer"), "");    // absent
}

TEST(TraceTest, WritesJsonTheStrictParserReadsBack) {
  Trace trace;
  const std::string awkward = "conv \"1\" \\ back\nward\t\x01 \xc3\xa9";
  trace.Add(1, kComputeTid, awkward, "backward", 20, 7, {{"step", 4}, {"op", awkward}});
  trace.Add(1, kCommTid, "send", "comm", 5, 30, {{"bytes", size_t{4096}}, {"peer", 0}});
  trace.NameWorker(1, "rank \"one\"");
  const std::string path = TestDir("json") + "/trace.json";
  ASSERT_TRUE(trace.WriteJson(path).ok());

  absl::StatusOr<json::Value> parsed = json::Parse(FileContents(path));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const json::Value* unit = Member(*parsed, "displayTimeUnit");
  ASSERT_NE(unit, nullptr);
  EXPECT_EQ(unit->string, "ms");
  const json::Value* events = Member(*parsed, "traceEvents");
  ASSERT_NE(events, nullptr);
  ASSERT_EQ(events->kind, json::Value::Kind::kArray);

  std::vector<const json::Value*> complete;
  std::map<int64_t, std::string> thread_names;
  std::string worker_name;
  for (const json::Value& event : events->array) {
    const std::string phase = Member(event, "ph")->string;
    if (phase == "X") complete.push_back(&event);
    if (phase != "M") continue;
    const std::string kind = Member(event, "name")->string;
    const std::string name = Member(*Member(event, "args"), "name") != nullptr
                                 ? Member(*Member(event, "args"), "name")->string
                                 : "";
    if (kind == "thread_name") thread_names[Member(event, "tid")->integer] = name;
    if (kind == "process_name") worker_name = name;
  }
  EXPECT_EQ(thread_names[kComputeTid], "compute");
  EXPECT_EQ(thread_names[kCommTid], "comm");
  EXPECT_EQ(worker_name, "rank \"one\"");

  ASSERT_EQ(complete.size(), 2u);
  EXPECT_EQ(Member(*complete[0], "name")->string, "send");  // sorted by ts: 5 before 20
  EXPECT_EQ(Member(*complete[0], "ts")->integer, 5);
  EXPECT_EQ(Member(*Member(*complete[0], "args"), "bytes")->integer, 4096);
  const json::Value& conv = *complete[1];
  EXPECT_EQ(Member(conv, "name")->string, awkward);
  EXPECT_EQ(Member(conv, "cat")->string, "backward");
  EXPECT_EQ(Member(conv, "pid")->integer, 1);
  EXPECT_EQ(Member(conv, "dur")->integer, 7);
  EXPECT_EQ(Member(*Member(conv, "args"), "op")->string, awkward);
  EXPECT_EQ(Member(*Member(conv, "args"), "step")->integer, 4);
}

TEST(TraceTest, WriteLeavesNoTemporaryAndReplacesTheFile) {
  const std::string dir = TestDir("atomic");
  const std::string path = dir + "/trace.json";
  Trace first;
  first.Add(0, kComputeTid, "old", "compute", 0, 1);
  ASSERT_TRUE(first.WriteJson(path).ok());
  Trace second;
  second.Add(0, kComputeTid, "new", "compute", 0, 1);
  ASSERT_TRUE(second.WriteJson(path).ok());

  EXPECT_THAT(DirectoryEntries(dir), ::testing::ElementsAre("trace.json"));
  EXPECT_THAT(FileContents(path), HasSubstr("\"new\""));
  EXPECT_THAT(FileContents(path), ::testing::Not(HasSubstr("\"old\"")));
}

TEST(TraceTest, WriteErrorNamesThePath) {
  Trace trace;
  const std::string path = TestDir("missing") + "/no/such/dir/trace.json";
  const absl::Status status = trace.WriteJson(path);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr(path));
}

}  // namespace
}  // namespace ald
